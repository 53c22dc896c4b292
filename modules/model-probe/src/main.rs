//! `model-probe`: reports the models mounted for its run (named in `LILYPAD_MODELS`, each at
//! `/models/<name>`), one line per file:
//! `<model>/<file> <size> <fnv1a-64 of its bytes, hex> <read-only|WRITABLE>`, sorted. Read-only
//! means creating a file beside it failed, as every mount of a model must. The report goes to
//! stdout and to `/outputs/models.txt`.
//!
//! A module that needs no model is given no names and reports nothing.
use std::{fs, io::Read, path::Path};

/// FNV-1a, 64 bits: a checksum with no dependency, enough to show the bytes are the model's.
fn fnv1a(path: &Path) -> std::io::Result<u64> {
	let mut hash = 0xcbf2_9ce4_8422_2325u64;
	let mut file = fs::File::open(path)?;
	let mut buf = vec![0u8; 1 << 16];
	loop {
		let n = file.read(&mut buf)?;
		if n == 0 {
			return Ok(hash);
		}
		for b in &buf[..n] {
			hash ^= u64::from(*b);
			hash = hash.wrapping_mul(0x0100_0000_01b3);
		}
	}
}

/// Every regular file under `dir`, as paths relative to `root`.
fn files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
	for entry in fs::read_dir(dir)? {
		let path = entry?.path();
		if path.is_dir() {
			files(root, &path, out)?;
		} else {
			out.push(path.strip_prefix(root).unwrap_or(&path).display().to_string());
		}
	}
	Ok(())
}

fn main() {
	let root = Path::new("/models");
	let mut lines = Vec::new();
	// Each model is its own mount: the agent names them in `LILYPAD_MODELS`.
	let names = std::env::var("LILYPAD_MODELS").unwrap_or_default();
	let mut names: Vec<&str> = names.split(',').filter(|n| !n.is_empty()).collect();
	names.sort();
	for name in names {
		let model = root.join(name);
		let mut found = Vec::new();
		if let Err(e) = files(root, &model, &mut found) {
			eprintln!("cannot list {}: {e}", model.display());
			std::process::exit(1);
		}
		found.sort();
		let writable = fs::write(model.join(".probe"), b"x").is_ok();
		for file in found {
			let path = root.join(&file);
			let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
			let sum = fnv1a(&path).unwrap_or(0);
			let access = if writable { "WRITABLE" } else { "read-only" };
			lines.push(format!("{file} {size} {sum:016x} {access}"));
		}
	}
	let report = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
	print!("{report}");
	if let Err(e) = fs::write("/outputs/models.txt", &report) {
		eprintln!("cannot write /outputs/models.txt: {e}");
		std::process::exit(1);
	}
}
