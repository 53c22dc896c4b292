//! The model's tokenizer, from its `tokenizer.json`, configured as sentence-transformers runs it.
//!
//! all-MiniLM-L6-v2's tokenizer.json is BERT's uncased WordPiece (30,522 tokens): the
//! `BertNormalizer` lowercases, strips accents and puts spaces around CJK characters, the
//! `BertPreTokenizer` splits on whitespace and punctuation, and the template wraps a text in
//! `[CLS] ... [SEP]`. The file also asks for truncation at 128 tokens and padding to 128: neither
//! is what sentence-transformers does. It truncates at the model's `max_seq_length` (256,
//! `sentence_bert_config.json`; the two special tokens count) and pads a batch only to its
//! longest text; this module embeds one text at a time, so it never pads.
use std::path::Path;

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// A text's tokens, as the model sees them.
#[derive(Debug, PartialEq)]
pub struct Tokens {
	/// `[CLS]`, the text's tokens, `[SEP]`: at most the model's `max_seq_length`.
	pub ids: Vec<u32>,
	/// Whether tokens at the end of the text were left out to fit.
	pub truncated: bool,
}

pub struct TextTokenizer {
	inner: Tokenizer,
}

impl TextTokenizer {
	/// Loads `tokenizer.json`, truncating at `max_tokens` (the special tokens included) and
	/// never padding.
	pub fn load(path: &Path, max_tokens: usize) -> Result<Self, String> {
		let mut inner =
			Tokenizer::from_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
		inner
			.with_truncation(Some(TruncationParams {
				max_length: max_tokens,
				strategy: TruncationStrategy::LongestFirst,
				stride: 0,
				direction: TruncationDirection::Right,
			}))
			.map_err(|e| format!("{}: truncation at {max_tokens}: {e}", path.display()))?;
		inner.with_padding(None);
		Ok(Self { inner })
	}

	/// The tokens of `text`, with the special tokens, truncated to fit.
	pub fn encode(&self, text: &str) -> Result<Tokens, String> {
		let encoding = self.inner.encode(text, true).map_err(|e| format!("tokenize: {e}"))?;
		// With truncation, what was cut off comes back as overflowing encodings.
		Ok(Tokens {
			ids: encoding.get_ids().to_vec(),
			truncated: !encoding.get_overflowing().is_empty(),
		})
	}

	pub fn vocab_size(&self) -> usize {
		self.inner.get_vocab_size(true)
	}
}
