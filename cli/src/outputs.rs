//! A finished job's outputs, fetched from its provider's content store and checked against
//! the digests the provider signed on chain: `<dir>/<job>/stdout`, `stderr` and `outputs/`.
use std::path::{Path, PathBuf};

use anyhow::Context;
use lilypad_client::content::{FetchError, StoreClient};
use lilypad_primitives::{wire, AccountId};

use crate::{
	error::{fail, Kind},
	node::Node,
};

/// The most a job's output blob may weigh here.
const MAX_BLOB: u64 = 1 << 30;

/// Downloaded and verified outputs.
pub struct Outputs {
	pub dir: PathBuf,
	pub stdout: Vec<u8>,
	pub stderr: Vec<u8>,
	/// The output files, relative to `dir/outputs`.
	pub files: Vec<PathBuf>,
}

/// The content store URL of `provider`, from its offer on chain.
pub async fn endpoint(node: &Node, provider: &AccountId) -> anyhow::Result<String> {
	let info = node.provider(&lilypad_client::chain::account_id(provider)).await?;
	let info = info.with_context(|| format!("provider {provider} has no offer on chain"))?;
	Ok(info.endpoint.trim_end_matches('/').to_string())
}

/// Fetches blob `want` from `store`, refusing bytes that hash to anything else.
pub async fn blob(store: &StoreClient, want: &[u8; 32]) -> anyhow::Result<Vec<u8>> {
	store.get(want, MAX_BLOB).await.map_err(|e| match e {
		FetchError::WrongDigest { url, got } => fail(
			Kind::Verification,
			format!(
				"{url} served bytes that hash to {}, not the digest on chain: refused",
				hex::encode(got)
			),
		),
		other => fail(Kind::Verification, other.to_string()),
	})
}

/// Downloads the outputs of `job` (a job with a result) into `dir/<id>/`, each checked
/// against its digest on chain.
pub async fn download(node: &Node, job: &wire::Job, dir: &Path) -> anyhow::Result<Outputs> {
	let id = job.id;
	let Some(result) = &job.result else {
		return Err(fail(Kind::BadInput, format!("job {id} has no result yet")));
	};
	let provider = &job.assignment.as_ref().context("job has no provider")?.provider;
	let store = endpoint(node, provider).await?;
	let store = StoreClient::new(&store);
	let (archive, stdout, stderr) = tokio::try_join!(
		blob(&store, &result.output_digest),
		blob(&store, &result.stdout_digest),
		blob(&store, &result.stderr_digest),
	)?;
	let dir = std::path::absolute(dir)?.join(id.to_string());
	let out = dir.join("outputs");
	if out.exists() {
		std::fs::remove_dir_all(&out).with_context(|| format!("clear {}", out.display()))?;
	}
	std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
	std::fs::write(dir.join("stdout"), &stdout)?;
	std::fs::write(dir.join("stderr"), &stderr)?;
	let files = lilypad_client::archive::unpack(&archive, &out).context("unpack the outputs")?;
	Ok(Outputs { dir, stdout, stderr, files })
}

#[cfg(test)]
mod tests {
	use super::*;
	use lilypad_client::content::digest_of;
	use tokio::io::{AsyncReadExt, AsyncWriteExt};

	/// A one-route HTTP server answering every request with `body`; returns its base URL.
	async fn serve(body: &'static [u8]) -> String {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let url = format!("http://{}", listener.local_addr().unwrap());
		tokio::spawn(async move {
			while let Ok((mut conn, _)) = listener.accept().await {
				let mut buf = [0u8; 1024];
				let _ = conn.read(&mut buf).await;
				let head = format!(
					"HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
					body.len()
				);
				let _ = conn.write_all(head.as_bytes()).await;
				let _ = conn.write_all(body).await;
			}
		});
		url
	}

	#[tokio::test]
	async fn a_blob_is_kept_only_if_it_hashes_to_the_digest_on_chain() {
		let store = serve(b"the real outputs").await;
		let store = StoreClient::new(&store);
		let right = digest_of(b"the real outputs");
		assert_eq!(blob(&store, &right).await.unwrap(), b"the real outputs");
		let wrong = digest_of(b"what the chain says");
		let err = blob(&store, &wrong).await.unwrap_err();
		assert_eq!(crate::error::kind_of(&err).0, Kind::Verification);
		assert!(err.to_string().contains("not the digest on chain"), "{err}");
	}
}
