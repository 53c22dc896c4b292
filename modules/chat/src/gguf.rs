//! The GGUF file: its metadata first (enough to tokenize and check the request), then the
//! weights.
//!
//! Reads are few and large. Under WASI every read and seek is a call out of the sandbox, and
//! candle's GGUF parser reads the header a string at a time (about 100,000 strings here, each
//! with a position query): through a plain file that took seconds. [`Reader`] keeps the
//! header in memory and reads each tensor straight into its buffer with one call.
use std::{
	fs::File,
	io::{Read, Seek, SeekFrom},
	path::Path,
};

use candle_core::{
	quantized::gguf_file::{Content, Value},
	Device,
};
use candle_transformers::models::quantized_llama::ModelWeights;

use crate::tokenizer::Vocab;

/// How much of the file is read at once to parse the header: SmolLM2's is 1.7 MiB.
const HEAD_BYTES: u64 = 8 << 20;

/// A file read through a copy of its first bytes; past them, straight from the file. Seeks
/// only move a cursor.
struct Reader {
	file: File,
	head: Vec<u8>,
	len: u64,
	pos: u64,
	/// Where the file's own cursor is, to skip seeks that would not move it.
	file_pos: u64,
}

impl Reader {
	fn open(path: &Path) -> std::io::Result<Self> {
		let mut file = File::open(path)?;
		let len = file.metadata()?.len();
		let mut head = vec![0u8; len.min(HEAD_BYTES) as usize];
		file.read_exact(&mut head)?;
		let file_pos = head.len() as u64;
		Ok(Self { file, head, len, pos: 0, file_pos })
	}
}

impl Read for Reader {
	fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
		if let Some(head) = self.head.get(self.pos as usize..).filter(|h| !h.is_empty()) {
			let n = head.len().min(buf.len());
			buf[..n].copy_from_slice(&head[..n]);
			self.pos += n as u64;
			return Ok(n);
		}
		if self.file_pos != self.pos {
			self.file.seek(SeekFrom::Start(self.pos))?;
			self.file_pos = self.pos;
		}
		let n = self.file.read(buf)?;
		self.pos += n as u64;
		self.file_pos = self.pos;
		Ok(n)
	}
}

impl Seek for Reader {
	fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
		let pos = match to {
			SeekFrom::Start(p) => Some(p),
			SeekFrom::End(d) => self.len.checked_add_signed(d),
			SeekFrom::Current(d) => self.pos.checked_add_signed(d),
		};
		self.pos = pos.ok_or_else(|| {
			std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
		})?;
		Ok(self.pos)
	}
}

/// An opened GGUF whose header is parsed.
pub struct Gguf {
	reader: Reader,
	content: Content,
}

impl Gguf {
	pub fn open(path: &Path) -> Result<Self, String> {
		let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
		let mut reader = Reader::open(path).map_err(|e| fail(&e))?;
		let content = Content::read(&mut reader).map_err(|e| fail(&e))?;
		// The header is parsed: the tensors, past it, are read from the file.
		reader.head = Vec::new();
		Ok(Self { reader, content })
	}

	/// Takes out the tokenizer's metadata (the model does not need it).
	pub fn take_vocab(&mut self) -> Result<Vocab, String> {
		let tokens = self.take_array("tokenizer.ggml.tokens")?;
		let merges = self.take_array("tokenizer.ggml.merges")?;
		let types = self.take_array("tokenizer.ggml.token_type")?;
		let string = |v: Value| match v {
			Value::String(s) => Ok(s),
			other => Err(format!("a tokenizer string is a {:?}", other.value_type())),
		};
		Ok(Vocab {
			tokens: tokens.into_iter().map(string).collect::<Result<_, _>>()?,
			merges: merges.into_iter().map(string).collect::<Result<_, _>>()?,
			types: types
				.into_iter()
				.map(|v| v.to_i32().map_err(|e| format!("a token type: {e}")))
				.collect::<Result<_, _>>()?,
		})
	}

	/// A string from the metadata.
	pub fn string(&self, key: &str) -> Result<&str, String> {
		match self.content.metadata.get(key) {
			Some(Value::String(s)) => Ok(s),
			Some(_) => Err(format!("GGUF metadata {key} is not a string")),
			None => Err(format!("GGUF metadata has no {key}")),
		}
	}

	/// A whole number from the metadata.
	pub fn u32(&self, key: &str) -> Result<u32, String> {
		let value = self.content.metadata.get(key).ok_or(format!("GGUF metadata has no {key}"))?;
		value.to_u32().map_err(|e| format!("GGUF metadata {key}: {e}"))
	}

	fn take_array(&mut self, key: &str) -> Result<Vec<Value>, String> {
		match self.content.metadata.remove(key) {
			Some(Value::Array(values)) => Ok(values),
			Some(_) => Err(format!("GGUF metadata {key} is not an array")),
			None => Err(format!("GGUF metadata has no {key}")),
		}
	}

	/// Reads the weights (quantized, as they are in the file) for candle's llama.
	pub fn load_model(mut self, device: &Device) -> Result<ModelWeights, String> {
		ModelWeights::from_gguf(self.content, &mut self.reader, device)
			.map_err(|e| format!("load the model: {e}"))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn reads_across_the_head_and_seeks_anywhere() {
		let dir = std::env::temp_dir().join(format!("chat-gguf-reader-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let path = dir.join("bytes");
		let bytes: Vec<u8> = (0..(HEAD_BYTES as usize + 1000)).map(|i| (i % 251) as u8).collect();
		std::fs::write(&path, &bytes).unwrap();
		let mut r = Reader::open(&path).unwrap();
		let mut buf = vec![0u8; 600];
		r.seek(SeekFrom::End(-800)).unwrap();
		r.read_exact(&mut buf).unwrap();
		assert_eq!(buf, bytes[bytes.len() - 800..][..600]);
		r.seek(SeekFrom::Start(HEAD_BYTES - 300)).unwrap();
		r.read_exact(&mut buf).unwrap();
		assert_eq!(buf, bytes[HEAD_BYTES as usize - 300..][..600]);
		r.seek(SeekFrom::Current(-600)).unwrap();
		assert_eq!(r.stream_position().unwrap(), HEAD_BYTES - 300);
		let mut rest = Vec::new();
		r.read_to_end(&mut rest).unwrap();
		assert_eq!(rest, bytes[HEAD_BYTES as usize - 300..]);
		assert!(r.seek(SeekFrom::Current(-(bytes.len() as i64) - 1)).is_err());
		std::fs::remove_dir_all(&dir).unwrap();
	}
}
