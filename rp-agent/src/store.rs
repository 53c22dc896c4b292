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
	extract::{Path as UrlPath, Query, State},
	http::{header, StatusCode},
	response::{IntoResponse, Response},
	routing::get,
	Router,
};
use lilypad_client::content::{StoreClient, BLOBS_ROUTE, WEIGHTS_OF};
use lilypad_primitives::{
	models::{ModelRef, Weights},
	registry::Digest,
};

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

	/// Stores the blob arriving as `chunks` under `expected`, hashed and counted on its way to
	/// a temporary file (never held whole in memory): refused, and nothing kept, past
	/// `max_bytes` or when it hashes to anything else.
	pub async fn put_stream<S, E>(
		&self,
		expected: &Digest,
		max_bytes: u64,
		mut chunks: S,
	) -> Result<(), UploadError>
	where
		S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
		E: std::fmt::Display,
	{
		use futures::StreamExt;
		use tokio::io::AsyncWriteExt;
		let seq = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
		let tmp = self.root.join("tmp").join(format!("{}-up-{seq}", std::process::id()));
		let written = async {
			let mut file = tokio::fs::File::create(&tmp).await?;
			let mut hasher = blake3::Hasher::new();
			let mut len = 0u64;
			while let Some(chunk) = chunks.next().await {
				let chunk = chunk.map_err(|e| UploadError::Interrupted(e.to_string()))?;
				len += chunk.len() as u64;
				if len > max_bytes {
					return Err(UploadError::TooLarge { max_bytes });
				}
				hasher.update(&chunk);
				file.write_all(&chunk).await?;
			}
			let got = *hasher.finalize().as_bytes();
			if &got != expected {
				return Err(UploadError::WrongDigest { got });
			}
			file.sync_all().await?;
			let path = self.path_of(expected);
			tokio::fs::create_dir_all(path.parent().expect("blob path has a parent")).await?;
			tokio::fs::rename(&tmp, &path).await?;
			Ok::<(), UploadError>(())
		}
		.await;
		if written.is_err() {
			let _ = tokio::fs::remove_file(&tmp).await;
		}
		written
	}

	/// The HTTP API: `GET /blobs/<hex>` serves a blob, `PUT /blobs/<hex>` stores one (see
	/// [`Uploads`] for what is taken), `GET /health` answers `ok`.
	pub fn router(self: std::sync::Arc<Self>, uploads: Uploads) -> Router {
		Router::new()
			.route("/health", get(|| async { "ok" }))
			.route(BLOBS_ROUTE, get(serve_blob).put(upload_blob).head(head_blob))
			.with_state(Api { store: self, uploads })
	}
}

/// Why an upload was refused.
#[derive(Debug)]
pub enum UploadError {
	/// More bytes than the upload may have.
	TooLarge { max_bytes: u64 },
	/// Bytes that hash to `got`, not to the name they were sent under.
	WrongDigest { got: Digest },
	/// The sender stopped before the end.
	Interrupted(String),
	/// The store could not write them.
	Io(std::io::Error),
}

impl From<std::io::Error> for UploadError {
	fn from(e: std::io::Error) -> Self {
		Self::Io(e)
	}
}

impl UploadError {
	fn status(&self) -> StatusCode {
		match self {
			Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
			Self::WrongDigest { .. } => StatusCode::UNPROCESSABLE_ENTITY,
			Self::Interrupted(_) => StatusCode::BAD_REQUEST,
			Self::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
		}
	}
}

impl std::fmt::Display for UploadError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::TooLarge { max_bytes } => write!(f, "larger than the {max_bytes} bytes allowed"),
			Self::WrongDigest { got } => write!(
				f,
				"digest mismatch: the bytes hash to {}, not to the name they were sent under",
				hex::encode(got)
			),
			Self::Interrupted(why) => write!(f, "the upload stopped short: {why}"),
			Self::Io(e) => write!(f, "cannot store it: {e}"),
		}
	}
}

/// The weights a model version pins, `None` when no such version is published.
pub type PinnedWeights<'a> = std::pin::Pin<
	Box<dyn std::future::Future<Output = anyhow::Result<Option<Weights>>> + Send + 'a>,
>;

/// Looks up the weights a published model version pins (the chain, for an agent).
pub trait WeightsRegistry: Send + Sync {
	/// The weights of `model` (`name@version`).
	fn weights_of<'a>(&'a self, model: &'a ModelRef) -> PinnedWeights<'a>;
}

/// What the store takes over HTTP from anyone. A blob up to `max_blob` bytes (a job's input)
/// needs no reason; a larger one only as the weights of a published model version the upload
/// names (`?weights_of=name@version`), whose registration cost its publisher a deposit, under
/// the digest and at most the size the chain pins. Until a registry is set (the agent
/// connects to its node after it starts serving) such uploads are answered 503.
#[derive(Clone, Default)]
pub struct Uploads {
	pub max_blob: u64,
	pub registry: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<dyn WeightsRegistry>>>,
}

impl Uploads {
	/// Uploads of at most `max_blob` bytes, and of weights once a registry is set.
	pub fn capped(max_blob: u64) -> Self {
		Self { max_blob, registry: Default::default() }
	}

	/// How many bytes an upload of `digest` may have, or why it is refused.
	async fn allowance(
		&self,
		digest: &Digest,
		weights_of: Option<&str>,
	) -> Result<u64, (StatusCode, String)> {
		let Some(spec) = weights_of else { return Ok(self.max_blob) };
		let model = ModelRef::parse(spec).ok_or_else(|| {
			(StatusCode::BAD_REQUEST, format!("{WEIGHTS_OF}={spec:?} is not name@version"))
		})?;
		let Some(registry) = self.registry.get() else {
			return Err((StatusCode::SERVICE_UNAVAILABLE, "not connected to the chain yet".into()));
		};
		let weights = registry
			.weights_of(&model)
			.await
			.map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, format!("reading the chain: {e:#}")))?
			.ok_or_else(|| (StatusCode::NOT_FOUND, format!("model {spec} is not published")))?;
		if &weights.digest != digest {
			return Err((
				StatusCode::FORBIDDEN,
				format!(
					"model {spec} pins the weights {}, not {}",
					hex::encode(weights.digest),
					hex::encode(digest)
				),
			));
		}
		Ok(weights.size.max(self.max_blob))
	}
}

impl WeightsRegistry for lilypad_client::chain::Chain {
	fn weights_of<'a>(&'a self, model: &'a ModelRef) -> PinnedWeights<'a> {
		Box::pin(async move { Ok(self.model_version(model).await?.map(|m| m.weights)) })
	}
}

#[derive(Clone)]
struct Api {
	store: Shared,
	uploads: Uploads,
}

/// Serves `router` (a store's, perhaps merged with others) on `listener` until it fails.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
	axum::serve(listener, router).await
}

type Shared = std::sync::Arc<ContentStore>;

/// Streams the blob from disk: a blob may be gigabytes of model weights, never read whole
/// into memory to serve it.
async fn serve_blob(
	State(Api { store, .. }): State<Api>,
	UrlPath(digest): UrlPath<String>,
) -> Response {
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

async fn head_blob(
	State(Api { store, .. }): State<Api>,
	UrlPath(digest): UrlPath<String>,
) -> StatusCode {
	match parse_digest(&digest) {
		Some(d) if store.contains(&d) => StatusCode::OK,
		Some(_) => StatusCode::NOT_FOUND,
		None => StatusCode::BAD_REQUEST,
	}
}

#[derive(serde::Deserialize)]
struct UploadQuery {
	weights_of: Option<String>,
}

/// Streams an upload to disk; refused before a byte is kept when a declared length exceeds
/// the allowance, and cut off when the bytes do.
async fn upload_blob(
	State(Api { store, uploads }): State<Api>,
	UrlPath(digest): UrlPath<String>,
	Query(query): Query<UploadQuery>,
	headers: axum::http::HeaderMap,
	body: Body,
) -> Response {
	let Some(digest) = parse_digest(&digest) else {
		return (StatusCode::BAD_REQUEST, "not a blake3 hex digest").into_response();
	};
	let max_bytes = match uploads.allowance(&digest, query.weights_of.as_deref()).await {
		Ok(max) => max,
		Err(refusal) => return refusal.into_response(),
	};
	let declared = headers
		.get(header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.parse::<u64>().ok());
	if declared.is_some_and(|n| n > max_bytes) {
		return (StatusCode::PAYLOAD_TOO_LARGE, UploadError::TooLarge { max_bytes }.to_string())
			.into_response();
	}
	if store.contains(&digest) {
		return StatusCode::CREATED.into_response();
	}
	match store.put_stream(&digest, max_bytes, body.into_data_stream()).await {
		Ok(()) => StatusCode::CREATED.into_response(),
		Err(e) => (e.status(), e.to_string()).into_response(),
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
		let client = StoreClient::new(&serve(store.clone().router(Uploads::capped(1 << 20))).await);

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

	/// A registry of one published model version.
	struct OneModel(ModelRef, Weights);

	impl WeightsRegistry for OneModel {
		fn weights_of<'a>(&'a self, model: &'a ModelRef) -> PinnedWeights<'a> {
			Box::pin(async move { Ok((model == &self.0).then_some(self.1)) })
		}
	}

	#[tokio::test]
	async fn uploads_past_the_cap_are_only_the_published_weights_streamed_whole() {
		use lilypad_primitives::models::{WeightsFormat, WeightsLayout};
		let dir = tempfile::tempdir().unwrap();
		let store = std::sync::Arc::new(ContentStore::open(dir.path()).unwrap());
		// Small enough that a refusal sent before the body is read still reaches the client
		// (the socket buffers take the whole body).
		let weights = vec![7u8; 64 << 10];
		let digest = digest_of(&weights);
		let path = dir.path().join("weights.gguf");
		std::fs::write(&path, &weights).unwrap();
		let uploads = Uploads::capped(1 << 10);
		let registry = uploads.registry.clone();
		let client = StoreClient::new(&serve(store.clone().router(uploads)).await);
		let spec = "llm@1.0.0";

		// No chain yet: weights are not taken.
		let err = client.put_file(&digest, &path, Some(spec)).await.unwrap_err();
		assert!(err.to_string().contains("503"), "{err:#}");
		let pinned = Weights {
			digest,
			size: weights.len() as u64,
			layout: WeightsLayout::File,
			format: WeightsFormat::Gguf,
		};
		let published = ModelRef::parse(spec).unwrap();
		assert!(registry.set(std::sync::Arc::new(OneModel(published, pinned))).is_ok());

		// Past the cap without naming the model, or naming one that is not published.
		let err = client.put_file(&digest, &path, None).await.unwrap_err();
		assert!(err.to_string().contains("413"), "{err:#}");
		let err = client.put_file(&digest, &path, Some("other@1.0.0")).await.unwrap_err();
		assert!(err.to_string().contains("404"), "{err:#}");
		// Bytes that are not the pinned weights: refused at once under another digest, and at
		// their end under the pinned one.
		let mut tampered = weights.clone();
		tampered[32 << 10] ^= 1;
		let tampered_path = dir.path().join("tampered.gguf");
		std::fs::write(&tampered_path, &tampered).unwrap();
		let err = client.put_file(&digest_of(&tampered), &tampered_path, Some(spec)).await;
		assert!(err.unwrap_err().to_string().contains("403"));
		let err = client.put_file(&digest, &tampered_path, Some(spec)).await.unwrap_err();
		assert!(err.to_string().contains("422"), "{err:#}");
		assert!(!store.contains(&digest));
		// More bytes than pinned.
		let longer = dir.path().join("longer.gguf");
		std::fs::write(&longer, [&weights[..], b"x"].concat()).unwrap();
		let err = client.put_file(&digest, &longer, Some(spec)).await.unwrap_err();
		assert!(err.to_string().contains("413"), "{err:#}");
		// The weights themselves, streamed.
		client.put_file(&digest, &path, Some(spec)).await.unwrap();
		assert_eq!(store.get(&digest).unwrap().as_deref(), Some(&weights[..]));
		// Nothing is left half-written.
		assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
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
