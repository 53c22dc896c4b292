//! The model cache: the weights of the models this agent's jobs need, kept on disk by content
//! digest within a byte budget and mounted read-only into the runs that need them
//! (docs/design.md §2).
//!
//! A model version pins its weights on chain as one blob, by blake3 digest and size
//! ([`Weights`]). The cache fetches a blob once, through a [`WeightsSource`] (the agent's own
//! content store, else its peers: [`StoresSource`]), hashing and counting every byte as it
//! streams to disk, never holding the blob in memory, and refusing it on any mismatch. It keeps
//! each blob as a directory, the mount: `<root>/<hex digest>/weights.<format>` for a single
//! file, or the blob's tar unpacked under `<root>/<hex digest>/`, where only regular files and
//! directories inside the root are allowed. Files are made read-only (0444, directories 0555).
//!
//! When a new blob would not fit the budget, the least recently used entries are evicted,
//! never one a run has [`Pinned`]. An entry counts only once its marker
//! `<root>/<hex digest>.complete` (holding its size) exists, and that is written last: whatever
//! a crash leaves without one, and every staging file (`.tmp-*`), is removed when the cache is
//! next opened. One cache per directory: two agents must not share a root.
use std::{
	collections::HashMap,
	future::Future,
	io,
	os::unix::fs::PermissionsExt,
	path::{Component, Path, PathBuf},
	pin::Pin,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex, MutexGuard, PoisonError,
	},
	task::{ready, Context as TaskContext, Poll},
	time::SystemTime,
};

use anyhow::{bail, Context};
use lilypad_client::content::StoreClient;
use lilypad_primitives::{
	models::{Weights, WeightsLayout},
	registry::Digest,
};
use tokio::{
	io::{AsyncWrite, AsyncWriteExt},
	sync::OwnedMutexGuard,
};
use tracing::warn;

use crate::store::ContentStore;

/// The extension of an entry's completion marker, `<hex digest>.complete`.
const MARKER_EXTENSION: &str = "complete";
/// The prefix of staging files and directories: downloads in progress, entries being removed.
const STAGING_PREFIX: &str = ".tmp-";

/// Where a cache fetches the weights it does not hold.
pub trait WeightsSource: Sync {
	/// Streams blob `digest` into `sink`, at most `max_bytes` of it; returns the bytes written.
	/// The cache hashes and counts what arrives, so a source need not check it.
	fn fetch_into(
		&self,
		digest: &Digest,
		max_bytes: u64,
		sink: &mut (dyn AsyncWrite + Unpin + Send),
	) -> impl Future<Output = anyhow::Result<u64>> + Send;
}

/// Model weights kept on disk within a byte budget. See the module docs.
pub struct ModelCache {
	root: PathBuf,
	capacity: u64,
	state: Arc<Mutex<State>>,
	/// One lock per digest being fetched: concurrent fetches of a blob download it once.
	downloads: Mutex<HashMap<Digest, Arc<tokio::sync::Mutex<()>>>>,
	staging_seq: AtomicU64,
}

/// What the cache holds, shared with the [`Pinned`] guards it hands out.
#[derive(Default)]
struct State {
	entries: HashMap<Digest, Entry>,
	/// Bytes set aside for downloads in flight.
	reserved: u64,
	/// Uses so far; an entry's `last_used` is this count at its last use.
	uses: u64,
}

struct Entry {
	/// The blob's size: what the entry counts against the capacity.
	size: u64,
	last_used: u64,
	/// Runs mounting the entry now; it is never evicted while there are any.
	pins: u32,
}

impl State {
	fn held_bytes(&self) -> u64 {
		self.entries.values().map(|e| e.size).sum()
	}
}

/// Locks the state. A panic while it was held leaves counters, not broken invariants, so a
/// poisoned lock is taken as it is (guards unpin in `Drop`, where a second panic would abort).
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
	state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ModelCache {
	/// Opens (creating) the cache under `root`, holding at most `capacity_bytes` of weights.
	/// Finds the complete entries a previous run left, removes everything incomplete, and
	/// evicts the least recently used entries beyond the capacity.
	pub fn open(root: PathBuf, capacity_bytes: u64) -> anyhow::Result<Self> {
		std::fs::create_dir_all(&root)
			.with_context(|| format!("create the model cache {}", root.display()))?;
		let listing = || {
			std::fs::read_dir(&root)
				.with_context(|| format!("list the model cache {}", root.display()))
		};
		let mut found = Vec::new();
		for item in listing()? {
			let path = item?.path();
			let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
			let Some(name) = name else { continue };
			if name.starts_with(STAGING_PREFIX) {
				remove_path(&path).with_context(|| format!("remove {}", path.display()))?;
				continue;
			}
			let marked = name.strip_suffix(&format!(".{MARKER_EXTENSION}")).and_then(entry_digest);
			let Some(digest) = marked else { continue };
			match read_marker(&path) {
				Some(size) if entry_dir(&root, &digest).is_dir() => {
					found.push((digest, size, modified(&path)))
				}
				_ => remove_path(&path).with_context(|| format!("remove {}", path.display()))?,
			}
		}
		// Entry directories without a marker: a download or an eviction cut short.
		for item in listing()? {
			let path = item?.path();
			let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
			let Some(digest) = name.as_deref().and_then(entry_digest) else { continue };
			if !found.iter().any(|(d, _, _)| *d == digest) {
				remove_path(&path).with_context(|| format!("remove {}", path.display()))?;
			}
		}
		// Oldest marker first: markers are touched on every use.
		found.sort_by_key(|(_, _, modified)| *modified);
		let mut state = State::default();
		for (digest, size, _) in found {
			state.uses += 1;
			state.entries.insert(digest, Entry { size, last_used: state.uses, pins: 0 });
		}
		let cache = Self {
			root,
			capacity: capacity_bytes,
			state: Arc::new(Mutex::new(state)),
			downloads: Mutex::default(),
			staging_seq: AtomicU64::new(0),
		};
		let mut evicted = Vec::new();
		let made = cache.make_room(&mut lock(&cache.state), 0, &mut evicted);
		remove_evicted(evicted);
		made?;
		Ok(cache)
	}

	/// The digests of the weights held, most recently used first (what the offer advertises).
	pub fn held(&self) -> Vec<Digest> {
		let state = lock(&self.state);
		let mut held: Vec<_> = state.entries.iter().map(|(d, e)| (e.last_used, *d)).collect();
		held.sort_unstable_by(|a, b| b.cmp(a));
		held.into_iter().map(|(_, digest)| digest).collect()
	}

	/// Bytes of weights held (the blobs' sizes).
	pub fn bytes(&self) -> u64 {
		lock(&self.state).held_bytes()
	}

	/// The most bytes of weights the cache holds.
	pub fn capacity(&self) -> u64 {
		self.capacity
	}

	/// The weights `weights`, pinned for a run: held already, or downloaded from `source`,
	/// checked against their digest and size, and laid out for mounting. Concurrent fetches of
	/// the same weights download them once.
	pub async fn fetch(
		&self,
		weights: &Weights,
		source: &impl WeightsSource,
	) -> anyhow::Result<Pinned> {
		let digest = weights.digest;
		if let Some(pinned) = self.pin(&digest) {
			self.touch_marker(&digest);
			return Ok(pinned);
		}
		let download_lock = self.download_lock(&digest);
		let guard = download_lock.clone().lock_owned().await;
		let fetched = match self.pin(&digest) {
			// Another fetch downloaded them while this one waited.
			Some(pinned) => {
				drop(guard);
				Ok(pinned)
			}
			None => self.download(weights, source, guard).await,
		};
		self.release_download_lock(&digest, download_lock);
		fetched
	}

	/// Pins `digest` if it is held, marking it the most recently used.
	fn pin(&self, digest: &Digest) -> Option<Pinned> {
		let mut state = lock(&self.state);
		let state = &mut *state;
		let entry = state.entries.get_mut(digest)?;
		state.uses += 1;
		entry.last_used = state.uses;
		entry.pins += 1;
		Some(Pinned {
			digest: *digest,
			path: entry_dir(&self.root, digest),
			state: self.state.clone(),
		})
	}

	/// Records a use on disk, so that the order of use survives a restart. Best effort.
	fn touch_marker(&self, digest: &Digest) {
		let marker = marker_path(&self.root, digest);
		tokio::task::spawn_blocking(move || {
			let _ = std::fs::File::options()
				.write(true)
				.open(marker)
				.and_then(|f| f.set_modified(SystemTime::now()));
		});
	}

	fn download_lock(&self, digest: &Digest) -> Arc<tokio::sync::Mutex<()>> {
		let mut downloads = self.downloads.lock().unwrap_or_else(PoisonError::into_inner);
		downloads.entry(*digest).or_default().clone()
	}

	/// Forgets the download lock of `digest` unless another fetch waits on it.
	fn release_download_lock(&self, digest: &Digest, download_lock: Arc<tokio::sync::Mutex<()>>) {
		let mut downloads = self.downloads.lock().unwrap_or_else(PoisonError::into_inner);
		// This fetch's handle and the map's: nobody else holds it.
		if Arc::strong_count(&download_lock) <= 2 {
			downloads.remove(digest);
		}
	}

	/// Downloads `weights` into a staging file, checking them as they arrive, then lays them
	/// out as an entry. Called with the digest's download lock held (`guard`).
	async fn download(
		&self,
		weights: &Weights,
		source: &impl WeightsSource,
		guard: OwnedMutexGuard<()>,
	) -> anyhow::Result<Pinned> {
		let hex = hex::encode(weights.digest);
		if weights.size > self.capacity {
			bail!(
				"weights {hex} are {} bytes, more than the model cache's capacity of {} \
				 (model_cache_bytes)",
				weights.size,
				self.capacity
			);
		}
		let reservation = self.reserve(weights.size).await?;
		let staging = self.staging_path();
		let blob = Staged(staging.with_extension("blob"));
		let file = tokio::fs::File::create(&blob.0)
			.await
			.with_context(|| format!("create {}", blob.0.display()))?;
		let mut sink = Verifying::new(file, weights.size);
		let sent = source.fetch_into(&weights.digest, weights.size, &mut sink).await;
		if sink.overflowed {
			bail!(
				"weights {hex}: the source sent more than the {} bytes the registry pins: refused",
				weights.size
			);
		}
		sent.with_context(|| format!("fetch weights {hex}"))?;
		sink.flush().await.with_context(|| format!("write {}", blob.0.display()))?;
		let Verifying { inner: file, hasher, received, .. } = sink;
		if received != weights.size {
			bail!(
				"weights {hex}: the source sent {received} bytes, the registry pins {}: refused",
				weights.size
			);
		}
		let got = *hasher.finalize().as_bytes();
		if got != weights.digest {
			bail!(
				"weights {hex}: the bytes received hash to {}, not the pinned digest: refused",
				hex::encode(got)
			);
		}
		file.sync_all().await.with_context(|| format!("sync {}", blob.0.display()))?;
		drop(file);
		let commit = Commit {
			root: self.root.clone(),
			weights: *weights,
			blob,
			staging: Staged(staging),
			reservation,
			_guard: guard,
		};
		// On a blocking thread, and to its end even if the caller stops waiting: it holds the
		// download lock until the entry is in place or its staging is gone.
		tokio::task::spawn_blocking(move || commit.run())
			.await
			.context("the model cache's unpacking task failed")?
	}

	/// Sets `size` bytes aside for a download, evicting the least recently used unpinned
	/// entries as needed.
	async fn reserve(&self, size: u64) -> anyhow::Result<Reservation> {
		let mut evicted = Vec::new();
		let reserved = {
			let mut state = lock(&self.state);
			self.make_room(&mut state, size, &mut evicted).map(|()| {
				state.reserved += size;
				Reservation { state: self.state.clone(), size }
			})
		};
		if !evicted.is_empty() {
			let _ = tokio::task::spawn_blocking(move || remove_evicted(evicted)).await;
		}
		reserved
	}

	/// Evicts least recently used, unpinned entries until `size` more bytes fit beside those
	/// held and reserved. Each evicted entry loses its marker and its directory is moved aside
	/// (both quick, under the lock, so that no fetch sees half an entry); where they went is
	/// added to `evicted`, to be deleted outside the lock.
	fn make_room(
		&self,
		state: &mut State,
		size: u64,
		evicted: &mut Vec<PathBuf>,
	) -> anyhow::Result<()> {
		while state.held_bytes() + state.reserved + size > self.capacity {
			let victim = state
				.entries
				.iter()
				.filter(|(_, e)| e.pins == 0)
				.min_by_key(|(_, e)| e.last_used)
				.map(|(digest, _)| *digest);
			let Some(victim) = victim else {
				bail!(
					"no room for {size} more bytes of model weights: of the cache's {} bytes \
					 (model_cache_bytes), {} are held by models that runs are using and {} are \
					 being downloaded",
					self.capacity,
					state.held_bytes(),
					state.reserved
				);
			};
			state.entries.remove(&victim);
			let marker = marker_path(&self.root, &victim);
			match std::fs::remove_file(&marker) {
				Ok(()) => {}
				Err(e) if e.kind() == io::ErrorKind::NotFound => {}
				Err(e) => return Err(e).with_context(|| format!("remove {}", marker.display())),
			}
			let aside = self.staging_path().with_extension("evicted");
			let dir = entry_dir(&self.root, &victim);
			std::fs::rename(&dir, &aside)
				.with_context(|| format!("move {} aside", dir.display()))?;
			evicted.push(aside);
		}
		Ok(())
	}

	/// A fresh staging path under the root.
	fn staging_path(&self) -> PathBuf {
		let seq = self.staging_seq.fetch_add(1, Ordering::Relaxed);
		self.root.join(format!("{STAGING_PREFIX}{}-{seq}", std::process::id()))
	}
}

/// An entry kept from eviction while a run mounts it: unpinned when dropped.
pub struct Pinned {
	digest: Digest,
	path: PathBuf,
	state: Arc<Mutex<State>>,
}

impl Pinned {
	/// The directory to mount.
	pub fn path(&self) -> &Path {
		&self.path
	}

	/// The weights' digest.
	pub fn digest(&self) -> &Digest {
		&self.digest
	}
}

impl Drop for Pinned {
	fn drop(&mut self) {
		if let Some(entry) = lock(&self.state).entries.get_mut(&self.digest) {
			entry.pins = entry.pins.saturating_sub(1);
		}
	}
}

impl std::fmt::Debug for Pinned {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("Pinned")
			.field("digest", &hex::encode(self.digest))
			.field("path", &self.path)
			.finish()
	}
}

/// Bytes set aside for a download in flight; given back when dropped, or turned into the
/// entry once it is in place.
struct Reservation {
	state: Arc<Mutex<State>>,
	size: u64,
}

impl Reservation {
	/// Turns the reservation into the entry `digest` at `path`, pinned, in one step, so that
	/// its bytes are never counted twice or not at all.
	fn settle(mut self, digest: Digest, path: PathBuf) -> Pinned {
		let mut state = lock(&self.state);
		let state = &mut *state;
		state.reserved = state.reserved.saturating_sub(self.size);
		state.uses += 1;
		state.entries.insert(digest, Entry { size: self.size, last_used: state.uses, pins: 1 });
		self.size = 0;
		Pinned { digest, path, state: self.state.clone() }
	}
}

impl Drop for Reservation {
	fn drop(&mut self) {
		if self.size > 0 {
			let mut state = lock(&self.state);
			state.reserved = state.reserved.saturating_sub(self.size);
		}
	}
}

/// A staging file or directory, removed when dropped unless it was moved away first.
struct Staged(PathBuf);

impl Drop for Staged {
	fn drop(&mut self) {
		if let Err(e) = remove_path(&self.0) {
			warn!(path = %self.0.display(), error = %e, "cannot remove a model cache staging path");
		}
	}
}

/// The blocking second half of a download: verified weights laid out as an entry.
struct Commit {
	root: PathBuf,
	weights: Weights,
	/// The verified blob.
	blob: Staged,
	/// Where the entry is built before it is moved into place.
	staging: Staged,
	reservation: Reservation,
	/// The digest's download lock, held to the end.
	_guard: OwnedMutexGuard<()>,
}

impl Commit {
	fn run(self) -> anyhow::Result<Pinned> {
		let Commit { root, weights, blob, staging, reservation, _guard } = self;
		let hex = hex::encode(weights.digest);
		std::fs::create_dir(&staging.0)
			.with_context(|| format!("create {}", staging.0.display()))?;
		match weights.layout {
			WeightsLayout::File => {
				let file = staging.0.join(format!("weights.{}", weights.format.extension()));
				std::fs::rename(&blob.0, &file)
					.with_context(|| format!("move the weights to {}", file.display()))?;
			}
			WeightsLayout::Directory => {
				unpack(&blob.0, &staging.0).with_context(|| format!("unpack weights {hex}"))?;
			}
		}
		drop(blob);
		make_read_only(&staging.0)
			.with_context(|| format!("make {} read-only", staging.0.display()))?;
		let dir = entry_dir(&root, &weights.digest);
		// Not an entry (the download lock is held and the state has none): a leftover.
		remove_path(&dir).with_context(|| format!("remove {}", dir.display()))?;
		std::fs::rename(&staging.0, &dir)
			.with_context(|| format!("move weights {hex} into place"))?;
		// Last: the marker makes the entry complete.
		let marker = Staged(staging.0.with_extension(MARKER_EXTENSION));
		std::fs::write(&marker.0, format!("{}\n", weights.size))
			.and_then(|()| std::fs::File::open(&marker.0)?.sync_all())
			.and_then(|()| std::fs::rename(&marker.0, marker_path(&root, &weights.digest)))
			.with_context(|| format!("write the marker of weights {hex}"))?;
		Ok(reservation.settle(weights.digest, dir))
	}
}

/// Unpacks the weights tar at `tar` into `into`, refusing anything but regular files and
/// directories inside it: no links, no devices, no absolute paths, no `..`.
fn unpack(tar: &Path, into: &Path) -> anyhow::Result<()> {
	let file = std::fs::File::open(tar).with_context(|| format!("open {}", tar.display()))?;
	let mut archive = tar::Archive::new(io::BufReader::new(file));
	for entry in archive.entries().context("read the weights tar")? {
		let mut entry = entry.context("read the weights tar")?;
		let path = entry.path().context("read a path in the weights tar")?.into_owned();
		let shown = path.display();
		let Some(relative) = contained(&path) else {
			bail!("the weights tar holds {shown}, a path outside its root: refused");
		};
		let kind = entry.header().entry_type();
		if kind.is_dir() {
			let dir = into.join(&relative);
			std::fs::create_dir_all(&dir).with_context(|| format!("unpack {shown}"))?;
		} else if kind.is_file() && relative.as_os_str().is_empty() {
			bail!("the weights tar holds a file named {shown}: refused");
		} else if kind.is_file() {
			let target = into.join(&relative);
			if let Some(parent) = target.parent() {
				std::fs::create_dir_all(parent).with_context(|| format!("unpack {shown}"))?;
			}
			// Never over an earlier entry: a tar that names a file twice is refused.
			let mut out = std::fs::File::options()
				.write(true)
				.create_new(true)
				.open(&target)
				.with_context(|| format!("unpack {shown}"))?;
			io::copy(&mut entry, &mut out).with_context(|| format!("unpack {shown}"))?;
			out.sync_all().with_context(|| format!("unpack {shown}"))?;
		} else {
			bail!(
				"the weights tar holds {shown}, a {kind:?} entry: only regular files and \
				 directories are mounted"
			);
		}
	}
	Ok(())
}

/// `path` as plain names (`.` dropped), or `None` if it is absolute or has a `..`.
fn contained(path: &Path) -> Option<PathBuf> {
	let mut relative = PathBuf::new();
	for component in path.components() {
		match component {
			Component::Normal(name) => relative.push(name),
			Component::CurDir => {}
			Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
		}
	}
	Some(relative)
}

/// Makes the files under `dir` 0444 and the directories, `dir` too, 0555.
fn make_read_only(dir: &Path) -> io::Result<()> {
	for item in std::fs::read_dir(dir)? {
		let item = item?;
		if item.file_type()?.is_dir() {
			make_read_only(&item.path())?;
		} else {
			std::fs::set_permissions(item.path(), std::fs::Permissions::from_mode(0o444))?;
		}
	}
	std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555))
}

/// Makes `dir` and the directories under it writable by their owner again, so that what they
/// hold can be removed.
fn make_writable(dir: &Path) -> io::Result<()> {
	std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
	for item in std::fs::read_dir(dir)? {
		let item = item?;
		if item.file_type()?.is_dir() {
			make_writable(&item.path())?;
		}
	}
	Ok(())
}

/// Removes a file or a whole directory, read-only ones included; nothing there is fine.
fn remove_path(path: &Path) -> io::Result<()> {
	let metadata = match std::fs::symlink_metadata(path) {
		Ok(m) => m,
		Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
		Err(e) => return Err(e),
	};
	if metadata.is_dir() {
		make_writable(path)?;
		std::fs::remove_dir_all(path)
	} else {
		std::fs::remove_file(path)
	}
}

/// Deletes evicted entries moved aside (blocking); a failure only leaves a staging path that
/// the next `open` removes.
fn remove_evicted(evicted: Vec<PathBuf>) {
	for path in evicted {
		if let Err(e) = remove_path(&path) {
			warn!(path = %path.display(), error = %e, "cannot remove evicted model weights");
		}
	}
}

/// The digest an entry's name spells: 64 lowercase hex digits, as [`entry_dir`] writes it.
fn entry_digest(name: &str) -> Option<Digest> {
	let lower_hex = name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
	if name.len() != 64 || !lower_hex {
		return None;
	}
	hex::decode(name).ok()?.try_into().ok()
}

/// The directory of entry `digest`: the mount.
fn entry_dir(root: &Path, digest: &Digest) -> PathBuf {
	root.join(hex::encode(digest))
}

/// The completion marker of entry `digest`.
fn marker_path(root: &Path, digest: &Digest) -> PathBuf {
	root.join(format!("{}.{MARKER_EXTENSION}", hex::encode(digest)))
}

/// The size a marker records, if it reads as one.
fn read_marker(path: &Path) -> Option<u64> {
	std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// When the file at `path` was last modified; the epoch if that cannot be read.
fn modified(path: &Path) -> SystemTime {
	std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Writes a download to its file, hashing and counting the bytes as they pass and refusing
/// any beyond the size expected.
struct Verifying<W> {
	inner: W,
	hasher: blake3::Hasher,
	received: u64,
	expected: u64,
	/// Whether more than `expected` bytes were offered.
	overflowed: bool,
}

impl<W> Verifying<W> {
	fn new(inner: W, expected: u64) -> Self {
		Self { inner, hasher: blake3::Hasher::new(), received: 0, expected, overflowed: false }
	}
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Verifying<W> {
	fn poll_write(
		self: Pin<&mut Self>,
		cx: &mut TaskContext<'_>,
		buf: &[u8],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		if this.received + buf.len() as u64 > this.expected {
			this.overflowed = true;
			let why = format!("more than the {} bytes expected", this.expected);
			return Poll::Ready(Err(io::Error::other(why)));
		}
		let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
		this.hasher.update(&buf[..written]);
		this.received += written as u64;
		Poll::Ready(Ok(written))
	}

	fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut self.get_mut().inner).poll_flush(cx)
	}

	fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
	}
}

/// Weights from the agent's own content store, else from the first of its peers that serves
/// them.
pub struct StoresSource<'a> {
	pub store: &'a ContentStore,
	/// Base URLs of other agents' content stores, tried in order.
	pub peers: &'a [String],
}

impl WeightsSource for StoresSource<'_> {
	/// A peer that fails before sending anything gives way to the next; one that fails midway
	/// ends the fetch, since what it sent is already in `sink`.
	async fn fetch_into(
		&self,
		digest: &Digest,
		max_bytes: u64,
		sink: &mut (dyn AsyncWrite + Unpin + Send),
	) -> anyhow::Result<u64> {
		let hex = hex::encode(digest);
		let local = self.store.path_of(digest);
		match tokio::fs::File::open(&local).await {
			Ok(mut file) => {
				let len = file.metadata().await.context("read the blob's size")?.len();
				if len > max_bytes {
					bail!("blob {hex} in the content store is {len} bytes, more than {max_bytes}");
				}
				let copied = tokio::io::copy(&mut file, sink)
					.await
					.with_context(|| format!("copy blob {hex} from the content store"))?;
				return Ok(copied);
			}
			Err(e) if e.kind() == io::ErrorKind::NotFound => {}
			Err(e) => return Err(e).with_context(|| format!("open {}", local.display())),
		}
		let mut errors = Vec::new();
		for peer in self.peers {
			let mut counted = Counting { inner: &mut *sink, written: 0 };
			match StoreClient::new(peer).get_into(digest, max_bytes, &mut counted).await {
				Ok(written) => return Ok(written),
				Err(e) if counted.written == 0 => errors.push(e.to_string()),
				Err(e) => {
					return Err(e)
						.context(format!("blob {hex} broke off after {} bytes", counted.written))
				}
			}
		}
		bail!(
			"blob {hex} is not in the content store and no peer served it ({})",
			errors.join("; ")
		)
	}
}

/// Counts the bytes that pass to `inner`.
struct Counting<'s> {
	inner: &'s mut (dyn AsyncWrite + Unpin + Send),
	written: u64,
}

impl AsyncWrite for Counting<'_> {
	fn poll_write(
		self: Pin<&mut Self>,
		cx: &mut TaskContext<'_>,
		buf: &[u8],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		let written = ready!(Pin::new(&mut *this.inner).poll_write(cx, buf))?;
		this.written += written as u64;
		Poll::Ready(Ok(written))
	}

	fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
	}

	fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut *self.get_mut().inner).poll_shutdown(cx)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	use std::sync::atomic::AtomicUsize;

	use lilypad_client::content::digest_of;
	use lilypad_primitives::models::WeightsFormat;

	/// Serves blobs from memory, a few bytes at a time, and counts the fetches.
	#[derive(Default)]
	struct Memory {
		blobs: HashMap<Digest, Vec<u8>>,
		fetches: AtomicUsize,
	}

	impl Memory {
		/// Serves `bytes` under their digest.
		fn with(self, bytes: &[u8]) -> Self {
			self.serve(digest_of(bytes), bytes.to_vec())
		}

		/// Serves `bytes` under `digest`, whatever they hash to.
		fn serve(mut self, digest: Digest, bytes: Vec<u8>) -> Self {
			self.blobs.insert(digest, bytes);
			self
		}

		fn fetches(&self) -> usize {
			self.fetches.load(Ordering::Relaxed)
		}
	}

	impl WeightsSource for Memory {
		async fn fetch_into(
			&self,
			digest: &Digest,
			_max_bytes: u64,
			sink: &mut (dyn AsyncWrite + Unpin + Send),
		) -> anyhow::Result<u64> {
			self.fetches.fetch_add(1, Ordering::Relaxed);
			let bytes = self.blobs.get(digest).context("no such blob")?;
			for chunk in bytes.chunks(7) {
				sink.write_all(chunk).await?;
			}
			Ok(bytes.len() as u64)
		}
	}

	/// A cache root in a temporary directory, removable despite the read-only entries in it.
	struct Root(tempfile::TempDir);

	impl Root {
		fn new() -> Self {
			Self(tempfile::tempdir().unwrap())
		}

		fn path(&self) -> PathBuf {
			self.0.path().join("models")
		}
	}

	impl Drop for Root {
		fn drop(&mut self) {
			let _ = make_writable(self.0.path());
		}
	}

	fn weights(bytes: &[u8], layout: WeightsLayout) -> Weights {
		Weights {
			digest: digest_of(bytes),
			size: bytes.len() as u64,
			layout,
			format: WeightsFormat::Gguf,
		}
	}

	/// The names in `dir`, sorted.
	fn listing(dir: &Path) -> Vec<String> {
		let mut names: Vec<String> = std::fs::read_dir(dir)
			.unwrap()
			.map(|item| item.unwrap().file_name().to_string_lossy().into_owned())
			.collect();
		names.sort();
		names
	}

	fn mode(path: &Path) -> u32 {
		std::fs::metadata(path).unwrap().permissions().mode() & 0o777
	}

	/// A tar of regular files.
	fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
		let mut tar = tar::Builder::new(Vec::new());
		for (path, text) in files {
			let mut header = tar::Header::new_ustar();
			header.set_entry_type(tar::EntryType::Regular);
			header.set_mode(0o644);
			header.set_size(text.len() as u64);
			tar.append_data(&mut header, path, text.as_bytes()).unwrap();
		}
		tar.into_inner().unwrap()
	}

	#[tokio::test]
	async fn a_file_model_lands_read_only_as_weights_dot_its_format_and_is_fetched_once() {
		let root = Root::new();
		let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
		let blob = b"GGUF and then the weights".to_vec();
		let source = Memory::default().with(&blob);
		let w = weights(&blob, WeightsLayout::File);
		let hex = hex::encode(w.digest);

		let pinned = cache.fetch(&w, &source).await.unwrap();
		assert_eq!(pinned.path(), root.path().join(&hex));
		assert_eq!(listing(pinned.path()), ["weights.gguf"]);
		let file = pinned.path().join("weights.gguf");
		assert_eq!(std::fs::read(&file).unwrap(), blob);
		assert_eq!(mode(&file), 0o444);
		assert_eq!(mode(pinned.path()), 0o555);
		assert_eq!(listing(&root.path()), [hex.clone(), format!("{hex}.complete")]);
		assert_eq!(cache.held(), vec![w.digest]);
		assert_eq!(cache.bytes(), blob.len() as u64);
		drop(pinned);

		let again = cache.fetch(&w, &source).await.unwrap();
		assert_eq!(again.path(), root.path().join(&hex));
		assert_eq!(source.fetches(), 1, "held weights are not downloaded again");
	}

	#[tokio::test]
	async fn the_agents_store_serves_weights_first_then_its_peers_in_turn() {
		let dir = tempfile::tempdir().unwrap();
		let store = ContentStore::open(dir.path().join("store")).unwrap();
		let peer = Arc::new(ContentStore::open(dir.path().join("peer")).unwrap());
		let here = b"weights in the agent's own store".to_vec();
		let there = b"weights only a peer holds".to_vec();
		store.put(&here).unwrap();
		peer.put(&there).unwrap();
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let peer_url = format!("http://{}", listener.local_addr().unwrap());
		let router = peer.router(crate::store::Uploads::capped(1 << 20));
		tokio::spawn(async move { axum::serve(listener, router).await });
		// The first peer is down: the next one is asked.
		let peers = vec!["http://127.0.0.1:9".to_string(), peer_url];
		let source = StoresSource { store: &store, peers: &peers };

		let root = Root::new();
		let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
		for bytes in [&here, &there] {
			let pinned = cache.fetch(&weights(bytes, WeightsLayout::File), &source).await.unwrap();
			assert_eq!(&std::fs::read(pinned.path().join("weights.gguf")).unwrap(), bytes);
		}
		let missing = weights(b"weights nobody holds", WeightsLayout::File);
		let err = format!("{:#}", cache.fetch(&missing, &source).await.unwrap_err());
		assert!(err.contains("no peer served it"), "{err}");
	}

	#[tokio::test]
	async fn concurrent_fetches_of_the_same_weights_download_them_once() {
		let root = Root::new();
		let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
		let blob = vec![5u8; 4096];
		let source = Memory::default().with(&blob);
		let w = weights(&blob, WeightsLayout::File);
		let (a, b) = tokio::join!(cache.fetch(&w, &source), cache.fetch(&w, &source));
		assert_eq!(a.unwrap().path(), b.unwrap().path());
		assert_eq!(source.fetches(), 1);
	}

	#[tokio::test]
	async fn wrong_or_oversized_weights_are_refused_and_leave_nothing_behind() {
		let root = Root::new();
		let cache = ModelCache::open(root.path(), 64).unwrap();
		let good = b"the real weights".to_vec();
		let w = weights(&good, WeightsLayout::File);
		let hex = hex::encode(w.digest);

		// Other bytes of the same length under its name.
		let fake = b"fake real weight".to_vec();
		let liar = Memory::default().serve(w.digest, fake.clone());
		let err = format!("{:#}", cache.fetch(&w, &liar).await.unwrap_err());
		assert!(err.contains(&hex) && err.contains(&hex::encode(digest_of(&fake))), "{err}");
		// More bytes than pinned, and fewer.
		let mut longer = good.clone();
		longer.extend_from_slice(b" and more");
		let long = Memory::default().serve(w.digest, longer);
		let err = format!("{:#}", cache.fetch(&w, &long).await.unwrap_err());
		assert!(err.contains("more than the 16 bytes"), "{err}");
		let short = Memory::default().serve(w.digest, good[..8].to_vec());
		let err = format!("{:#}", cache.fetch(&w, &short).await.unwrap_err());
		assert!(err.contains("sent 8 bytes"), "{err}");
		// Weights larger than the whole cache are refused before any download.
		let huge = Weights { size: 65, ..w };
		let err = format!("{:#}", cache.fetch(&huge, &liar).await.unwrap_err());
		assert!(err.contains("capacity"), "{err}");
		assert_eq!(liar.fetches(), 1);

		assert!(listing(&root.path()).is_empty(), "{:?}", listing(&root.path()));
		assert!(cache.held().is_empty());
		assert_eq!(cache.bytes(), 0);
		// Nothing stays reserved: weights of the whole capacity still fit.
		let full = vec![7u8; 64];
		cache
			.fetch(&weights(&full, WeightsLayout::File), &Memory::default().with(&full))
			.await
			.unwrap();
	}

	#[tokio::test]
	async fn a_directory_model_is_its_tar_unpacked_read_only() {
		let root = Root::new();
		let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
		let tar = tar_of(&[("config.json", "{}"), ("tokenizer/vocab.txt", "a b c")]);
		let w = weights(&tar, WeightsLayout::Directory);
		let pinned = cache.fetch(&w, &Memory::default().with(&tar)).await.unwrap();
		let dir = pinned.path();
		assert_eq!(listing(dir), ["config.json", "tokenizer"]);
		assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), b"{}");
		assert_eq!(std::fs::read(dir.join("tokenizer/vocab.txt")).unwrap(), b"a b c");
		assert_eq!(mode(&dir.join("tokenizer/vocab.txt")), 0o444);
		assert_eq!(mode(&dir.join("tokenizer")), 0o555);
		assert_eq!(mode(dir), 0o555);
		// The tar itself is gone; its size is what the entry counts.
		let hex = hex::encode(w.digest);
		assert_eq!(listing(&root.path()), [hex.clone(), format!("{hex}.complete")]);
		assert_eq!(cache.bytes(), tar.len() as u64);
	}

	#[tokio::test]
	async fn a_tar_reaching_outside_its_root_or_holding_links_is_refused() {
		let root = Root::new();
		let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
		// `tar` will not write a `..` path: the name goes into the header by hand.
		let mut header = tar::Header::new_gnu();
		header.as_old_mut().name[..4].copy_from_slice(b"../x");
		header.set_entry_type(tar::EntryType::Regular);
		header.set_mode(0o644);
		header.set_size(1);
		header.set_cksum();
		let mut escape = tar::Builder::new(Vec::new());
		escape.append(&header, &b"x"[..]).unwrap();
		let mut tars = vec![("a path outside its root: refused", escape.into_inner().unwrap())];
		for (kind, why) in
			[(tar::EntryType::Symlink, "a Symlink entry"), (tar::EntryType::Link, "a Link entry")]
		{
			let mut header = tar::Header::new_gnu();
			header.set_entry_type(kind);
			header.set_size(0);
			let mut link = tar::Builder::new(Vec::new());
			link.append_link(&mut header, "weights.gguf", "/etc/passwd").unwrap();
			tars.push((why, link.into_inner().unwrap()));
		}
		for (why, tar) in tars {
			let w = weights(&tar, WeightsLayout::Directory);
			let source = Memory::default().with(&tar);
			let err = format!("{:#}", cache.fetch(&w, &source).await.unwrap_err());
			assert!(err.contains(why), "{err}");
			assert!(listing(&root.path()).is_empty(), "{:?}", listing(&root.path()));
			assert!(cache.held().is_empty());
		}
	}

	#[tokio::test]
	async fn the_least_recently_used_weights_are_evicted_first() {
		let root = Root::new();
		let cache = ModelCache::open(root.path(), 20).unwrap();
		let (a, b, c) = (vec![1u8; 10], vec![2u8; 10], vec![3u8; 10]);
		let source = Memory::default().with(&a).with(&b).with(&c);
		let [wa, wb, wc] = [&a, &b, &c].map(|bytes| weights(bytes, WeightsLayout::File));
		drop(cache.fetch(&wa, &source).await.unwrap());
		drop(cache.fetch(&wb, &source).await.unwrap());
		// `a` used again: `b` is now the least recently used.
		drop(cache.fetch(&wa, &source).await.unwrap());
		drop(cache.fetch(&wc, &source).await.unwrap());
		assert_eq!(cache.held(), vec![wc.digest, wa.digest]);
		assert_eq!(cache.bytes(), 20);
		assert_eq!(source.fetches(), 3);
		let name = |w: &Weights| hex::encode(w.digest);
		let mut want = vec![name(&wa), format!("{}.complete", name(&wa))];
		want.extend([name(&wc), format!("{}.complete", name(&wc))]);
		want.sort();
		assert_eq!(listing(&root.path()), want, "b is gone from disk too");
	}

	#[tokio::test]
	async fn pinned_weights_are_never_evicted() {
		let root = Root::new();
		let cache = ModelCache::open(root.path(), 20).unwrap();
		let (a, b, c) = (vec![1u8; 10], vec![2u8; 10], vec![3u8; 10]);
		let source = Memory::default().with(&a).with(&b).with(&c);
		let [wa, wb, wc] = [&a, &b, &c].map(|bytes| weights(bytes, WeightsLayout::File));
		let pinned_a = cache.fetch(&wa, &source).await.unwrap();
		let pinned_b = cache.fetch(&wb, &source).await.unwrap();
		let err = format!("{:#}", cache.fetch(&wc, &source).await.unwrap_err());
		assert!(err.contains("no room"), "{err}");
		assert_eq!(source.fetches(), 2, "nothing was downloaded for c");
		assert_eq!(cache.held(), vec![wb.digest, wa.digest]);
		// Once b is no longer mounted it may go; a stays, still pinned.
		drop(pinned_b);
		cache.fetch(&wc, &source).await.unwrap();
		assert_eq!(cache.held(), vec![wc.digest, wa.digest]);
		assert_eq!(std::fs::read(pinned_a.path().join("weights.gguf")).unwrap(), a);
	}

	#[tokio::test]
	async fn open_finds_complete_entries_and_removes_what_a_crash_left() {
		let root = Root::new();
		let a = vec![1u8; 10];
		let b = tar_of(&[("weights.safetensors", "w"), ("tokenizer.json", "t")]);
		let source = Memory::default().with(&a).with(&b);
		let (wa, wb) = (weights(&a, WeightsLayout::File), weights(&b, WeightsLayout::Directory));
		{
			let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
			cache.fetch(&wa, &source).await.unwrap();
			cache.fetch(&wb, &source).await.unwrap();
		}
		let listed = listing(&root.path());
		// A download cut short, an entry without its marker, a marker without its entry.
		std::fs::write(root.path().join(".tmp-1-9.blob"), b"half").unwrap();
		let orphan = root.path().join(hex::encode([9u8; 32]));
		std::fs::create_dir(&orphan).unwrap();
		std::fs::write(orphan.join("weights.gguf"), b"x").unwrap();
		std::fs::write(root.path().join(format!("{}.complete", hex::encode([8u8; 32]))), "5\n")
			.unwrap();

		let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
		assert_eq!(listing(&root.path()), listed);
		let mut held = cache.held();
		held.sort();
		let mut want = vec![wa.digest, wb.digest];
		want.sort();
		assert_eq!(held, want);
		assert_eq!(cache.bytes(), (a.len() + b.len()) as u64);
		let fetches = source.fetches();
		cache.fetch(&wb, &source).await.unwrap();
		assert_eq!(source.fetches(), fetches, "found entries are served without a download");
		drop(cache);

		// Opened with less room than it holds, it evicts down to its capacity.
		let cache = ModelCache::open(root.path(), b.len() as u64).unwrap();
		assert_eq!(cache.held().len(), 1);
		assert!(cache.bytes() <= b.len() as u64);
	}
}
