//! `model-fetch`: how fast the agent's model cache takes in weights from a peer's content store.
//!
//! A peer's content store (the agent's own HTTP store, on loopback) holds a blob of
//! `MODEL_FETCH_MIB` MiB (default 512) of incompressible bytes. Each of `RUNS` runs opens an
//! empty cache and fetches the blob through it: streamed over HTTP, hashed with blake3 and
//! counted as it arrives, written to disk, checked, and laid out read-only for mounting. The
//! reference is the same bytes fetched over the same HTTP into memory with no hashing and no
//! disk (`StoreClient::get`): the ratio is what the cache's checks and its disk cost.
//!
//!     cargo run -p lilypad-e2e --bin model-fetch        # or scripts/bench-agent.sh
use std::{sync::Arc, time::Instant};

use lilypad_client::content::StoreClient;
use lilypad_e2e::summary;
use lilypad_primitives::models::{Weights, WeightsFormat, WeightsLayout};
use lilypad_rp::{
	models::{ModelCache, StoresSource},
	store::ContentStore,
};

const RUNS: usize = 5;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
	let mib: usize =
		std::env::var("MODEL_FETCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(512);
	let size = mib << 20;
	let dir = tempfile::tempdir()?;

	// The peer: a content store holding the weights, served over HTTP.
	let peer = Arc::new(ContentStore::open(dir.path().join("peer"))?);
	let mut state = 0x9e37_79b9_7f4a_7c15u64;
	let blob: Vec<u8> = (0..size)
		.map(|_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			state as u8
		})
		.collect();
	let digest = peer.put(&blob)?;
	drop(blob);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
	let url = format!("http://{}", listener.local_addr()?);
	tokio::spawn(lilypad_rp::store::serve(
		listener,
		peer.router(lilypad_rp::store::Uploads::capped(u64::MAX)),
	));

	let local = ContentStore::open(dir.path().join("local"))?;
	let peers = [url.clone()];
	let source = StoresSource { store: &local, peers: &peers };
	let weights = Weights {
		digest,
		size: size as u64,
		layout: WeightsLayout::File,
		format: WeightsFormat::Gguf,
	};
	let (mut cached, mut reference) = (Vec::new(), Vec::new());
	for run in 0..RUNS {
		let cache = ModelCache::open(dir.path().join(format!("cache-{run}")), 2 * size as u64)?;
		let start = Instant::now();
		let pinned = cache.fetch(&weights, &source).await?;
		cached.push(mib as f64 / start.elapsed().as_secs_f64());
		assert!(pinned.path().join("weights.gguf").is_file());
		drop(pinned);

		let start = Instant::now();
		let bytes = StoreClient::new(&url).get(&digest, size as u64).await?;
		reference.push(mib as f64 / start.elapsed().as_secs_f64());
		assert_eq!(bytes.len(), size);
	}
	let median = |v: &[f64]| {
		let mut v = v.to_vec();
		v.sort_by(f64::total_cmp);
		v[v.len() / 2]
	};
	println!("weights fetched from a peer's store, {mib} MiB, {RUNS} runs:");
	println!(
		"{}",
		summary("into the model cache (hashed, on disk, read-only)", "MiB/s", cached.clone())
	);
	println!("{}", summary("reference: into memory, unchecked", "MiB/s", reference.clone()));
	println!(
		"ratio (median cache / median reference): {:.2}",
		median(&cached) / median(&reference)
	);
	Ok(())
}
