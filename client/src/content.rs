//! Content addressing: every module artifact, job input and job output is named by the blake3
//! digest of its bytes, and a provider's content store serves it at `<endpoint>/blobs/<hex>`.
//! This is the one place of the digest, the URL scheme, and the client that fetches and
//! stores blobs, checking what it fetches against the name it asked for.
use anyhow::{bail, Context};
use lilypad_primitives::registry::Digest;

/// The content store's route for one blob (axum's syntax), relative to its endpoint.
pub const BLOBS_ROUTE: &str = "/blobs/{digest}";

/// The query parameter of an upload that names the model version whose weights it is
/// (`PUT /blobs/<hex>?weights_of=<name>@<version>`): such an upload may be as large as the
/// weights the chain registers, beyond the store's cap for other blobs.
pub const WEIGHTS_OF: &str = "weights_of";

/// The blake3 digest of `bytes`: the name of a blob.
pub fn digest_of(bytes: &[u8]) -> Digest {
	*blake3::hash(bytes).as_bytes()
}

/// Parses a digest as 64 hex digits, with or without `0x` (as the wire format writes it).
pub fn parse_digest(hex_digest: &str) -> Option<Digest> {
	lilypad_primitives::wire::parse_hex(hex_digest).ok()
}

/// The URL of blob `digest` in the store at `endpoint` (a base URL; a trailing `/` is fine).
pub fn blob_url(endpoint: &str, digest: &Digest) -> String {
	format!("{}/blobs/{}", endpoint.trim_end_matches('/'), hex::encode(digest))
}

/// Why a blob could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
	/// No answer, or an answer other than the blob.
	Unreachable { url: String, why: String },
	/// More bytes than the caller allows.
	TooLarge { url: String, max_bytes: u64 },
	/// Bytes that hash to `got`, not to the digest asked for.
	WrongDigest { url: String, got: Digest },
	/// The bytes arrived but the sink they were streamed into refused them (a full disk, a
	/// writer that takes no more).
	Unwritten { url: String, why: String },
}

impl core::fmt::Display for FetchError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Unreachable { url, why } => write!(f, "cannot fetch {url}: {why}"),
			Self::TooLarge { url, max_bytes } => {
				write!(f, "cannot fetch {url}: larger than {max_bytes} bytes")
			}
			Self::WrongDigest { url, got } => write!(
				f,
				"{url} served bytes that hash to {}, not the digest asked for: refused",
				hex::encode(got)
			),
			Self::Unwritten { url, why } => write!(f, "cannot keep what {url} served: {why}"),
		}
	}
}

impl std::error::Error for FetchError {}

/// A client of one content store.
#[derive(Clone, Debug)]
pub struct StoreClient {
	http: reqwest::Client,
	endpoint: String,
}

impl StoreClient {
	/// A client of the store at `endpoint` (`http(s)://host:port`, as an offer names it).
	pub fn new(endpoint: &str) -> Self {
		Self::with_http(reqwest::Client::new(), endpoint)
	}

	/// The same, sharing `http`'s connections.
	pub fn with_http(http: reqwest::Client, endpoint: &str) -> Self {
		Self { http, endpoint: endpoint.trim_end_matches('/').to_string() }
	}

	pub fn endpoint(&self) -> &str {
		&self.endpoint
	}

	/// Blob `digest`, at most `max_bytes` long, hashed while it streams in: a store that
	/// sends more than the cap or bytes of another digest is refused without keeping them.
	pub async fn get(&self, digest: &Digest, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
		let mut bytes = Vec::new();
		self.get_into(digest, max_bytes, &mut bytes).await?;
		Ok(bytes)
	}

	/// Blob `digest`, at most `max_bytes` long, streamed into `sink` chunk by chunk (never held
	/// whole in memory) and hashed on the way; returns the bytes written. A store that sends
	/// more than the cap is cut off before the chunk that passes it; one that sends bytes of
	/// another digest is caught only at the end. On any error the caller must discard what
	/// `sink` received.
	pub async fn get_into(
		&self,
		digest: &Digest,
		max_bytes: u64,
		sink: &mut (dyn tokio::io::AsyncWrite + Unpin + Send),
	) -> Result<u64, FetchError> {
		use tokio::io::AsyncWriteExt;
		let url = blob_url(&self.endpoint, digest);
		let unreachable = |why: String| FetchError::Unreachable { url: url.clone(), why };
		let mut response =
			self.http.get(&url).send().await.map_err(|e| unreachable(e.to_string()))?;
		if !response.status().is_success() {
			return Err(unreachable(format!("HTTP {}", response.status())));
		}
		let too_large = || FetchError::TooLarge { url: url.clone(), max_bytes };
		if response.content_length().is_some_and(|n| n > max_bytes) {
			return Err(too_large());
		}
		let unwritten =
			|e: std::io::Error| FetchError::Unwritten { url: url.clone(), why: e.to_string() };
		let mut hasher = blake3::Hasher::new();
		let mut written = 0u64;
		while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(e.to_string()))? {
			if written + chunk.len() as u64 > max_bytes {
				return Err(too_large());
			}
			hasher.update(&chunk);
			sink.write_all(&chunk).await.map_err(unwritten)?;
			written += chunk.len() as u64;
		}
		sink.flush().await.map_err(unwritten)?;
		let got = *hasher.finalize().as_bytes();
		if &got != digest {
			return Err(FetchError::WrongDigest { url, got });
		}
		Ok(written)
	}

	/// Stores `bytes`; returns their digest. The store re-hashes them and refuses a mismatch.
	pub async fn put(&self, bytes: Vec<u8>) -> anyhow::Result<Digest> {
		let digest = digest_of(&bytes);
		self.put_as(&digest, bytes).await?;
		Ok(digest)
	}

	/// Sends `bytes` under the name `digest` as they are (a store must refuse them if they
	/// hash to anything else).
	pub async fn put_as(&self, digest: &Digest, bytes: Vec<u8>) -> anyhow::Result<()> {
		let url = blob_url(&self.endpoint, digest);
		let response =
			self.http.put(&url).body(bytes).send().await.with_context(|| format!("PUT {url}"))?;
		let status = response.status();
		if !status.is_success() {
			let why = response.text().await.unwrap_or_default();
			bail!("PUT {url}: HTTP {status}: {why}");
		}
		Ok(())
	}

	/// Sends the file at `path` under the name `digest`, streamed from disk (weights may be
	/// gigabytes: never held whole in memory). A store takes a blob larger than its cap on
	/// uploads only as the weights of a published model version, named in `model` (`name@version`
	/// as the chain has it), and only as large as the chain says; the store checks both.
	/// Skipped when the store already holds the blob.
	pub async fn put_file(
		&self,
		digest: &Digest,
		path: &std::path::Path,
		model: Option<&str>,
	) -> anyhow::Result<()> {
		if self.has(digest).await? {
			return Ok(());
		}
		let file = tokio::fs::File::open(path)
			.await
			.with_context(|| format!("open {}", path.display()))?;
		let len = file.metadata().await?.len();
		let mut url = blob_url(&self.endpoint, digest);
		if let Some(model) = model {
			url = format!("{url}?{WEIGHTS_OF}={model}");
		}
		let body =
			reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
		let response = self
			.http
			.put(&url)
			.header(reqwest::header::CONTENT_LENGTH, len)
			.body(body)
			.send()
			.await
			.with_context(|| format!("PUT {url}"))?;
		let status = response.status();
		if !status.is_success() {
			let why = response.text().await.unwrap_or_default();
			bail!("PUT {url}: HTTP {status}: {why}");
		}
		Ok(())
	}

	/// Whether the store holds `digest` (`HEAD`).
	pub async fn has(&self, digest: &Digest) -> anyhow::Result<bool> {
		let url = blob_url(&self.endpoint, digest);
		let response = self.http.head(&url).send().await.with_context(|| format!("HEAD {url}"))?;
		match response.status() {
			s if s.is_success() => Ok(true),
			reqwest::StatusCode::NOT_FOUND => Ok(false),
			s => bail!("HEAD {url}: HTTP {s}"),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_digest_reads_back_from_its_hex_with_or_without_0x() {
		let d = digest_of(b"hello");
		assert_eq!(d, *blake3::hash(b"hello").as_bytes());
		assert_eq!(parse_digest(&hex::encode(d)), Some(d));
		assert_eq!(parse_digest(&format!("0x{}", hex::encode(d))), Some(d));
		assert_eq!(parse_digest("abcd"), None);
		assert_eq!(parse_digest(&"g".repeat(64)), None);
	}

	#[test]
	fn blob_urls_join_the_endpoint_and_the_hex_digest() {
		let d = [0xab; 32];
		let want = format!("http://h:1/blobs/{}", "ab".repeat(32));
		assert_eq!(blob_url("http://h:1", &d), want);
		assert_eq!(blob_url("http://h:1/", &d), want);
	}
}
