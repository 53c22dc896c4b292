//! The content store: blobs on disk, addressed by their blake3 digest, and served over HTTP.
//!
//! Module artifacts, job inputs and job outputs (the canonical archive, stdout, stderr) all
//! live here, one file per blob under `<root>/<first two hex digits>/<hex digest>`. A blob is
//! written to a temporary file and renamed into place only once its digest is known, so a
//! crash never leaves a blob under a wrong name. Whatever comes from elsewhere (an upload, a
//! peer's store) is checked against the digest it was asked for and refused on a mismatch.
use std::{
	io::Write,
	path::PathBuf,
	sync::atomic::{AtomicU64, Ordering},
};

use anyhow::{bail, Context};
use axum::{
	body::{Body, Bytes},
	extract::{DefaultBodyLimit, Path as UrlPath, State},
	http::{header, StatusCode},
	response::{IntoResponse, Response},
	routing::get,
	Router,
};
use lilypad_client::content::{StoreClient, BLOBS_ROUTE};
use lilypad_primitives::registry::Digest;

use lilypad_client::content::{digest_of, parse_digest};

/// A directory of blobs named by digest.
#[derive(Debug)]
pub struct ContentStore {
	root: PathBuf,
	tmp_seq: AtomicU64,
}

impl ContentStore {
	/// Opens (creating) the store under `root`.
	pub fn open(root: impl Into<PathBuf>) -> anyhow::Result<Self> {
		let root = root.into();
		std::fs::create_dir_all(root.join("tmp"))
			.with_context(|| format!("create content store at {}", root.display()))?;
		Ok(Self { root, tmp_seq: AtomicU64::new(0) })
	}

	/// Where the blob `digest` lives (whether or not it is there).
	pub fn path_of(&self, digest: &Digest) -> PathBuf {
		let hex = hex::encode(digest);
		self.root.join(&hex[..2]).join(hex)
	}

	/// Whether the store holds `digest`.
	pub fn contains(&self, digest: &Digest) -> bool {
		self.path_of(digest).is_file()
	}

	/// Stores `bytes`; returns their digest. Storing a blob twice is a no-op.
	pub fn put(&self, bytes: &[u8]) -> anyhow::Result<Digest> {
		let digest = digest_of(bytes);
		self.put_as(&digest, bytes)?;
		Ok(digest)
	}

	/// Stores `bytes` as `expected`, refusing them if they hash to anything else.
	pub fn put_verified(&self, expected: &Digest, bytes: &[u8]) -> anyhow::Result<()> {
		let actual = digest_of(bytes);
		if &actual != expected {
			bail!(
				"digest mismatch: asked for {}, the bytes hash to {}",
				hex::encode(expected),
				hex::encode(actual)
			);
		}
		self.put_as(expected, bytes)
	}

	fn put_as(&self, digest: &Digest, bytes: &[u8]) -> anyhow::Result<()> {
		let path = self.path_of(digest);
		if path.is_file() {
			return Ok(());
		}
		let seq = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
		let tmp = self.root.join("tmp").join(format!("{}-{seq}", std::process::id()));
		let mut file = std::fs::File::create(&tmp).context("create temporary blob")?;
		file.write_all(bytes).context("write blob")?;
		file.sync_all().context("sync blob")?;
		std::fs::create_dir_all(path.parent().expect("blob path has a parent"))?;
		std::fs::rename(&tmp, &path).context("move blob into place")?;
		Ok(())
	}

	/// The blob `digest`, re-checked against its name: a blob damaged on disk is an error, never
	/// silently served.
	pub fn get(&self, digest: &Digest) -> anyhow::Result<Option<Vec<u8>>> {
		let bytes = match std::fs::read(self.path_of(digest)) {
			Ok(b) => b,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e).context("read blob"),
		};
		if &digest_of(&bytes) != digest {
			bail!("blob {} is damaged on disk", hex::encode(digest));
		}
		Ok(Some(bytes))
	}

	/// The blob `digest` from this store, or else from the first of `peers` (base URLs of other
	/// agents' stores) that has it, verified and kept here.
	pub async fn fetch(
		&self,
		digest: &Digest,
		peers: &[String],
		max_bytes: u64,
	) -> anyhow::Result<Vec<u8>> {
		if let Some(bytes) = self.get(digest)? {
			return Ok(bytes);
		}
		let mut errors = Vec::new();
		for peer in peers {
			// Checked against `digest` while it streams in, then once more as it is kept.
			let fetched = StoreClient::new(peer).get(digest, max_bytes).await;
			match fetched
				.map_err(anyhow::Error::from)
				.and_then(|bytes| self.put_verified(digest, &bytes).map(|()| bytes))
			{
				Ok(bytes) => return Ok(bytes),
				Err(e) => errors.push(e.to_string()),
			}
		}
		bail!(
			"blob {} is not here and no peer served it ({})",
			hex::encode(digest),
			errors.join("; ")
		)
	}

	/// The HTTP API: `GET /blobs/<hex>` serves a blob, `PUT /blobs/<hex>` stores one (refused
	/// with 422 when the body does not hash to the name), `GET /health` answers `ok`.
	pub fn router(self: std::sync::Arc<Self>, max_upload: usize) -> Router {
		Router::new()
			.route("/health", get(|| async { "ok" }))
			.route(BLOBS_ROUTE, get(serve_blob).put(upload_blob).head(head_blob))
			.layer(DefaultBodyLimit::max(max_upload))
			.with_state(self)
	}
}

/// Serves `router` (a store's, perhaps merged with others) on `listener` until it fails.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
	axum::serve(listener, router).await
}

type Shared = std::sync::Arc<ContentStore>;

/// Streams the blob from disk: a blob may be gigabytes of model weights, never read whole
/// into memory to serve it.
async fn serve_blob(State(store): State<Shared>, UrlPath(digest): UrlPath<String>) -> Response {
	let Some(digest) = parse_digest(&digest) else {
		return (StatusCode::BAD_REQUEST, "not a blake3 hex digest").into_response();
	};
	let file = match tokio::fs::File::open(store.path_of(&digest)).await {
		Ok(file) => file,
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
			return (StatusCode::NOT_FOUND, "no such blob").into_response()
		}
		Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
	};
	let len = match file.metadata().await {
		Ok(m) => m.len(),
		Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
	};
	(
		[
			(header::CONTENT_TYPE, "application/octet-stream".to_string()),
			(header::CONTENT_LENGTH, len.to_string()),
		],
		Body::from_stream(tokio_util::io::ReaderStream::new(file)),
	)
		.into_response()
}

async fn head_blob(State(store): State<Shared>, UrlPath(digest): UrlPath<String>) -> StatusCode {
	match parse_digest(&digest) {
		Some(d) if store.contains(&d) => StatusCode::OK,
		Some(_) => StatusCode::NOT_FOUND,
		None => StatusCode::BAD_REQUEST,
	}
}

async fn upload_blob(
	State(store): State<Shared>,
	UrlPath(digest): UrlPath<String>,
	body: Bytes,
) -> Response {
	let Some(digest) = parse_digest(&digest) else {
		return (StatusCode::BAD_REQUEST, "not a blake3 hex digest").into_response();
	};
	let stored = tokio::task::spawn_blocking(move || store.put_verified(&digest, &body)).await;
	match stored {
		Ok(Ok(())) => StatusCode::CREATED.into_response(),
		Ok(Err(e)) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
		Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn blobs_are_named_by_their_blake3_digest() {
		let dir = tempfile::tempdir().unwrap();
		let store = ContentStore::open(dir.path()).unwrap();
		let d = store.put(b"hello").unwrap();
		assert_eq!(d, *blake3::hash(b"hello").as_bytes());
		assert_eq!(store.get(&d).unwrap().as_deref(), Some(&b"hello"[..]));
		assert!(store.get(&[0; 32]).unwrap().is_none());
		// The same bytes again change nothing.
		assert_eq!(store.put(b"hello").unwrap(), d);
	}

	#[test]
	fn a_digest_mismatch_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let store = ContentStore::open(dir.path()).unwrap();
		let wrong = digest_of(b"something else");
		let err = store.put_verified(&wrong, b"hello").unwrap_err();
		assert!(err.to_string().contains("digest mismatch"), "{err}");
		assert!(!store.contains(&wrong));
	}

	/// Serves `router` on a free local port; returns its base URL.
	async fn serve(router: Router) -> String {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let url = format!("http://{}", listener.local_addr().unwrap());
		tokio::spawn(async move { axum::serve(listener, router).await });
		url
	}

	#[tokio::test]
	async fn the_store_client_puts_and_gets_through_the_http_api_checking_every_byte() {
		use lilypad_client::content::FetchError;
		let dir = tempfile::tempdir().unwrap();
		let store = std::sync::Arc::new(ContentStore::open(dir.path()).unwrap());
		let client = StoreClient::new(&serve(store.clone().router(1 << 20)).await);

		let d = client.put(b"hello".to_vec()).await.unwrap();
		assert_eq!(d, digest_of(b"hello"));
		assert!(store.contains(&d) && client.has(&d).await.unwrap());
		assert_eq!(client.get(&d, 5).await.unwrap(), b"hello");
		assert!(matches!(client.get(&d, 4).await, Err(FetchError::TooLarge { .. })));
		assert!(!client.has(&[1; 32]).await.unwrap());
		assert!(matches!(client.get(&[1; 32], 5).await, Err(FetchError::Unreachable { .. })));
		// The store refuses bytes under another name.
		let err = client.put_as(&[2; 32], b"hello".to_vec()).await.unwrap_err();
		assert!(err.to_string().contains("422"), "{err:#}");
		assert!(!store.contains(&[2; 32]));

		// A store that serves other bytes under a name is caught.
		let liar = Router::new().route(BLOBS_ROUTE, get(|| async { "not hello" }));
		let liar = StoreClient::new(&serve(liar).await);
		match liar.get(&d, 1 << 20).await {
			Err(FetchError::WrongDigest { got, .. }) => assert_eq!(got, digest_of(b"not hello")),
			other => panic!("a lying store's bytes were taken: {other:?}"),
		}
		// ... and a fetch from it keeps nothing.
		let other = ContentStore::open(dir.path().join("other")).unwrap();
		assert!(other.fetch(&d, &[liar.endpoint().to_string()], 1 << 20).await.is_err());
		assert!(!other.contains(&d));
	}

	#[test]
	fn a_blob_damaged_on_disk_is_not_served() {
		let dir = tempfile::tempdir().unwrap();
		let store = ContentStore::open(dir.path()).unwrap();
		let d = store.put(b"hello").unwrap();
		std::fs::write(store.path_of(&d), b"hellO").unwrap();
		assert!(store.get(&d).unwrap_err().to_string().contains("damaged"));
	}
}
