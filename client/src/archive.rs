//! The canonical archive of a directory: the bytes whose blake3 digest names the directory's
//! contents. A job's outputs are archived so, and the archive's digest is the output digest a
//! provider signs: two providers with the same output files sign the same digest. A model's
//! weights published as a directory (weights, tokenizer, configs) are archived so too, and the
//! archive's digest is the model version's weights digest.
//!
//! A tar (ustar) of the directory's directories and regular files, sorted by path, with every
//! header field that could differ between hosts fixed: mode 0755 for directories and 0644 for
//! files, owner 0:0 with no names, mtime 0. Symlinks and special files are left out.
use std::{
	io::{self, Read, Write},
	path::{Path, PathBuf},
};

use anyhow::bail;
use lilypad_primitives::registry::Digest;

/// Archives `dir`; fails when its files add up to more than `max_bytes`.
pub fn canonical_archive(dir: &Path, max_bytes: u64) -> anyhow::Result<Vec<u8>> {
	let entries = entries(dir)?;
	let total: u64 = entries.iter().map(|e| e.1.unwrap_or(0)).sum();
	if total > max_bytes {
		bail!("the outputs hold {total} bytes, more than the {max_bytes} allowed");
	}
	let mut archive = Vec::new();
	write_archive(dir, entries, &mut archive)?;
	Ok(archive)
}

/// Writes the canonical archive of `dir` to `out` as it goes, however large the files (a
/// model's weights): to a file, or through a [`Digesting`] writer to name it. The same bytes
/// as [`canonical_archive`].
pub fn canonical_tar(dir: &Path, out: &mut impl Write) -> io::Result<()> {
	write_archive(dir, entries(dir)?, out)
}

/// The directories (`None`) and regular files (`Some(len)`) under `dir`, by relative path,
/// sorted by the path's bytes.
fn entries(dir: &Path) -> io::Result<Vec<(PathBuf, Option<u64>)>> {
	let mut entries = Vec::new();
	collect(dir, PathBuf::new(), &mut entries)?;
	entries
		.sort_by(|a, b| a.0.as_os_str().as_encoded_bytes().cmp(b.0.as_os_str().as_encoded_bytes()));
	Ok(entries)
}

fn write_archive(
	dir: &Path,
	entries: Vec<(PathBuf, Option<u64>)>,
	out: &mut impl Write,
) -> io::Result<()> {
	let mut tar = tar::Builder::new(out);
	for (rel, size) in entries {
		let mut header = tar::Header::new_ustar();
		header.set_uid(0);
		header.set_gid(0);
		header.set_mtime(0);
		match size {
			None => {
				header.set_entry_type(tar::EntryType::Directory);
				header.set_mode(0o755);
				header.set_size(0);
				tar.append_data(&mut header, &rel, io::empty())?;
			}
			Some(len) => {
				header.set_entry_type(tar::EntryType::Regular);
				header.set_mode(0o644);
				header.set_size(len);
				let file = std::fs::File::open(dir.join(&rel)).map_err(|e| {
					io::Error::new(e.kind(), format!("open {}: {e}", rel.display()))
				})?;
				// No more than the header says, should the file grow meanwhile.
				tar.append_data(&mut header, &rel, file.take(len))?;
			}
		}
	}
	tar.into_inner()?.flush()
}

/// Adds the entries under `dir/rel`: `(path, None)` for a directory, `(path, Some(len))` for a
/// regular file.
fn collect(dir: &Path, rel: PathBuf, out: &mut Vec<(PathBuf, Option<u64>)>) -> io::Result<()> {
	for entry in std::fs::read_dir(dir.join(&rel))? {
		let entry = entry?;
		let kind = entry.file_type()?;
		let path = rel.join(entry.file_name());
		if kind.is_dir() {
			out.push((path.clone(), None));
			collect(dir, path, out)?;
		} else if kind.is_file() {
			out.push((path, Some(entry.metadata()?.len())));
		}
	}
	Ok(())
}

/// A writer that hands its bytes on to another and names them on the way: their blake3
/// digest and their length. Over [`io::sink`], it names a blob too large to hold in memory
/// (a model's weights file) without keeping it.
pub struct Digesting<W> {
	inner: W,
	hasher: blake3::Hasher,
	len: u64,
}

impl<W: Write> Digesting<W> {
	pub fn new(inner: W) -> Self {
		Self { inner, hasher: blake3::Hasher::new(), len: 0 }
	}

	/// The digest and length of everything written, and the writer it went to (flushed).
	pub fn finish(mut self) -> io::Result<(Digest, u64, W)> {
		self.inner.flush()?;
		Ok((*self.hasher.finalize().as_bytes(), self.len, self.inner))
	}
}

impl<W: Write> Write for Digesting<W> {
	fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
		let n = self.inner.write(buf)?;
		self.hasher.update(&buf[..n]);
		self.len += n as u64;
		Ok(n)
	}

	fn flush(&mut self) -> io::Result<()> {
		self.inner.flush()
	}
}

/// The blake3 digest and length of the file at `path`, read in chunks: a multi-GB weights
/// file is named without being held in memory.
pub fn digest_of_file(path: &Path) -> io::Result<(Digest, u64)> {
	let file = std::fs::File::open(path)?;
	let mut digesting = Digesting::new(io::sink());
	io::copy(&mut io::BufReader::with_capacity(1 << 20, file), &mut digesting)?;
	let (digest, len, _) = digesting.finish()?;
	Ok((digest, len))
}

/// Unpacks an archive made by [`canonical_archive`] into `into` (what a job creator does with
/// its downloaded outputs); returns the paths of the files, in archive order.
pub fn unpack(archive: &[u8], into: &Path) -> anyhow::Result<Vec<PathBuf>> {
	let mut files = Vec::new();
	let mut tar = tar::Archive::new(archive);
	for entry in tar.entries()? {
		let mut entry = entry?;
		let path = entry.path()?.into_owned();
		if entry.header().entry_type().is_file() {
			files.push(path);
		}
		// `unpack_in` refuses paths that would land outside `into`.
		entry.unpack_in(into)?;
	}
	Ok(files)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn write(root: &Path, rel: &str, bytes: &[u8]) {
		let p = root.join(rel);
		std::fs::create_dir_all(p.parent().unwrap()).unwrap();
		std::fs::write(p, bytes).unwrap();
	}

	#[test]
	fn the_same_files_give_the_same_archive_whatever_their_order_and_times() {
		let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		write(a.path(), "z.txt", b"last");
		write(a.path(), "d/x.bin", b"\x00\x01");
		write(a.path(), "a.txt", b"first");
		// Created in another order, and one file made executable.
		write(b.path(), "a.txt", b"first");
		write(b.path(), "d/x.bin", b"\x00\x01");
		write(b.path(), "z.txt", b"last");
		use std::os::unix::fs::PermissionsExt;
		std::fs::set_permissions(b.path().join("a.txt"), std::fs::Permissions::from_mode(0o755))
			.unwrap();
		let (x, y) = (
			canonical_archive(a.path(), 1 << 20).unwrap(),
			canonical_archive(b.path(), 1 << 20).unwrap(),
		);
		assert_eq!(x, y);

		let out = tempfile::tempdir().unwrap();
		let files = unpack(&x, out.path()).unwrap();
		assert_eq!(files, vec![PathBuf::from("a.txt"), "d/x.bin".into(), "z.txt".into()]);
		assert_eq!(std::fs::read(out.path().join("d/x.bin")).unwrap(), b"\x00\x01");
	}

	fn set_mtime(root: &Path, rel: &str, secs: u64) {
		let file = std::fs::File::options().write(true).open(root.join(rel)).unwrap();
		file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).unwrap();
	}

	#[test]
	fn a_weights_directory_streams_to_the_same_bytes_whatever_its_order_and_times() {
		let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		write(a.path(), "model.safetensors", &[1; 3000]);
		write(a.path(), "tokenizer/tokenizer.json", b"{}");
		write(a.path(), "config.json", b"{\"layers\": 30}");
		set_mtime(a.path(), "config.json", 1_700_000_000);
		// Created in another order, at other times.
		write(b.path(), "config.json", b"{\"layers\": 30}");
		write(b.path(), "tokenizer/tokenizer.json", b"{}");
		write(b.path(), "model.safetensors", &[1; 3000]);
		set_mtime(b.path(), "model.safetensors", 12_345);
		set_mtime(b.path(), "tokenizer/tokenizer.json", 99);
		let (mut x, mut y) = (Vec::new(), Vec::new());
		canonical_tar(a.path(), &mut x).unwrap();
		canonical_tar(b.path(), &mut y).unwrap();
		assert_eq!(x, y);
		// The same bytes as a job's outputs of those files, and named the same as they pass.
		assert_eq!(x, canonical_archive(b.path(), 1 << 20).unwrap());
		let mut digesting = Digesting::new(Vec::new());
		canonical_tar(a.path(), &mut digesting).unwrap();
		let (digest, len, written) = digesting.finish().unwrap();
		assert_eq!(written, x);
		assert_eq!((digest, len), (*blake3::hash(&x).as_bytes(), x.len() as u64));
	}

	#[test]
	fn a_weights_file_is_named_by_its_bytes() {
		let a = tempfile::tempdir().unwrap();
		let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
		write(a.path(), "w.gguf", &bytes);
		let named = digest_of_file(&a.path().join("w.gguf")).unwrap();
		assert_eq!(named, (*blake3::hash(&bytes).as_bytes(), bytes.len() as u64));
	}

	#[test]
	fn different_contents_give_different_archives() {
		let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		write(a.path(), "out.txt", b"42");
		write(b.path(), "out.txt", b"43");
		assert_ne!(
			canonical_archive(a.path(), 100).unwrap(),
			canonical_archive(b.path(), 100).unwrap()
		);
	}

	#[test]
	fn too_much_output_is_refused() {
		let a = tempfile::tempdir().unwrap();
		write(a.path(), "big", &[7; 1000]);
		let err = canonical_archive(a.path(), 999).unwrap_err();
		assert!(err.to_string().contains("more than the 999 allowed"), "{err}");
	}
}
