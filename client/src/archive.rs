//! The canonical archive of a job's outputs: the bytes whose blake3 digest is the output digest
//! a provider signs, so two providers with the same output files sign the same digest.
//!
//! A tar (ustar) of the output directory's directories and regular files, sorted by path, with
//! every header field that could differ between hosts fixed: mode 0755 for directories and
//! 0644 for files, owner 0:0 with no names, mtime 0. Symlinks and special files are left out.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Archives `dir`; fails when its files add up to more than `max_bytes`.
pub fn canonical_archive(dir: &Path, max_bytes: u64) -> anyhow::Result<Vec<u8>> {
	let mut entries = Vec::new();
	collect(dir, PathBuf::new(), &mut entries)?;
	entries
		.sort_by(|a, b| a.0.as_os_str().as_encoded_bytes().cmp(b.0.as_os_str().as_encoded_bytes()));
	let total: u64 = entries.iter().map(|e| e.1.unwrap_or(0)).sum();
	if total > max_bytes {
		bail!("the outputs hold {total} bytes, more than the {max_bytes} allowed");
	}
	let mut tar = tar::Builder::new(Vec::new());
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
				tar.append_data(&mut header, &rel, std::io::empty())?;
			}
			Some(len) => {
				header.set_entry_type(tar::EntryType::Regular);
				header.set_mode(0o644);
				header.set_size(len);
				let file = std::fs::File::open(dir.join(&rel))
					.with_context(|| format!("open output {}", rel.display()))?;
				tar.append_data(&mut header, &rel, file)?;
			}
		}
	}
	Ok(tar.into_inner()?)
}

/// Adds the entries under `dir/rel`: `(path, None)` for a directory, `(path, Some(len))` for a
/// regular file.
fn collect(dir: &Path, rel: PathBuf, out: &mut Vec<(PathBuf, Option<u64>)>) -> anyhow::Result<()> {
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
