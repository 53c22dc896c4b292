//! The job's input, as `lilypad-module.toml` declares it: `texts`, a JSON list of strings, as the
//! file `/inputs/texts` (or, for a list longer than an inline value may be, the job's blob,
//! `/inputs/blob`). The module takes no arguments.
use std::path::Path;

/// Texts one job may embed at most: 256 texts of 256 tokens each fit the module's timeout
/// (docs/models/all-minilm-l6-v2.md).
pub const MAX_TEXTS: usize = 256;

/// Reads the texts from the files in `inputs`; `args` (the program's arguments, without its
/// name) must be empty.
pub fn read(args: impl IntoIterator<Item = String>, inputs: &Path) -> Result<Vec<String>, String> {
	if let Some(arg) = args.into_iter().next() {
		return Err(format!("unknown argument {arg:?}: the only input is `texts`, a file"));
	}
	let (file, bytes) = model_kit::file_or_blob(inputs, "texts")?
		.ok_or("no texts: give the input `texts` (or a blob) holding a JSON list of strings")?;
	let texts: Vec<String> = serde_json::from_slice(&bytes)
		.map_err(|e| format!("{file}: {e} (expected a JSON list of strings)"))?;
	if texts.is_empty() {
		return Err(format!("{file}: the list is empty: give at least one text"));
	}
	if texts.len() > MAX_TEXTS {
		return Err(format!(
			"{file}: {} texts, more than the {MAX_TEXTS} one job may embed",
			texts.len()
		));
	}
	Ok(texts)
}

#[cfg(test)]
mod tests {
	use super::*;

	struct Dir(std::path::PathBuf);
	impl Drop for Dir {
		fn drop(&mut self) {
			let _ = std::fs::remove_dir_all(&self.0);
		}
	}

	fn dir(files: &[(&str, &str)]) -> Dir {
		use std::sync::atomic::{AtomicUsize, Ordering};
		static N: AtomicUsize = AtomicUsize::new(0);
		let n = N.fetch_add(1, Ordering::Relaxed);
		let d = std::env::temp_dir().join(format!("embed-inputs-{}-{n}", std::process::id()));
		std::fs::create_dir_all(&d).unwrap();
		for (name, text) in files {
			std::fs::write(d.join(name), text).unwrap();
		}
		Dir(d)
	}

	#[test]
	fn texts_come_as_a_file_or_the_blob() {
		let d = dir(&[("texts", r#"["a", "", "ß 🙂"]"#)]);
		assert_eq!(read([], &d.0).unwrap(), ["a", "", "ß 🙂"]);
		let d = dir(&[("blob", r#"["from the blob"]"#)]);
		assert_eq!(read([], &d.0).unwrap(), ["from the blob"]);
		// The named input wins over the blob.
		let d = dir(&[("texts", r#"["named"]"#), ("blob", r#"["blob"]"#)]);
		assert_eq!(read([], &d.0).unwrap(), ["named"]);
	}

	#[test]
	fn as_many_texts_as_the_bound() {
		let list = serde_json::to_string(&vec!["x"; MAX_TEXTS]).unwrap();
		let d = dir(&[("texts", &list)]);
		assert_eq!(read([], &d.0).unwrap().len(), MAX_TEXTS);
	}

	#[test]
	fn bad_inputs_are_refused_with_their_name() {
		let none = dir(&[]);
		assert!(read([], &none.0).unwrap_err().contains("`texts`"));
		let too_many = serde_json::to_string(&vec!["x"; MAX_TEXTS + 1]).unwrap();
		for (bad, says) in [
			("[]", "the list is empty"),
			("\"one text\"", "expected a JSON list of strings"),
			("{\"texts\": []}", "expected a JSON list of strings"),
			("[\"a\", 1]", "expected a JSON list of strings"),
			("[\"a\", null]", "expected a JSON list of strings"),
			("[\"unterminated", "expected a JSON list of strings"),
			(too_many.as_str(), "257 texts, more than the 256"),
		] {
			let d = dir(&[("texts", bad)]);
			let err = read([], &d.0).unwrap_err();
			assert!(err.starts_with("texts: ") && err.contains(says), "{bad}: {err}");
		}
		let d = dir(&[("blob", "[]")]);
		assert!(read([], &d.0).unwrap_err().starts_with("blob: "));
		let d = dir(&[("texts", "[\"a\"]")]);
		assert!(read(["--normalize=false".to_string()], &d.0).unwrap_err().contains("unknown"));
	}
}
