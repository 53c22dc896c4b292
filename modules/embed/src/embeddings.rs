//! A job's result: every text's embedding, one text at a time.
//!
//! One at a time rather than in padded batches: a text's vector is then a function of that text
//! alone, the same bits whichever texts share its job, so that a vector computed once can stand
//! for that text in any later job. In a padded batch it would not be: the matrix products'
//! shapes, and with them how candle's `gemm` blocks and orders its sums, follow the batch and
//! its longest text. Measured natively on one thread (docs/models/all-minilm-l6-v2.md), one
//! padded batch of 64 short texts was 1.6 times as fast, and its vectors differed from these in
//! the last bits (up to 1.6e-7).
use serde::Serialize;

use crate::{model::Model, tokenizer::TextTokenizer};

/// `/outputs/embeddings.json`.
#[derive(Debug, Serialize)]
pub struct Embeddings {
	/// The model's name, as the job mounted it.
	pub model: String,
	/// Each embedding's length.
	pub dimensions: usize,
	/// One per text, in the order given, each of length 1.
	pub embeddings: Vec<Vec<f32>>,
	/// The tokens each text was embedded from, `[CLS]` and `[SEP]` included.
	pub token_counts: Vec<usize>,
	pub total_tokens: usize,
	/// The indices of the texts whose end was left out to fit the model's `max_seq_length`.
	pub truncated: Vec<usize>,
}

/// Embeds `texts`.
pub fn embed(
	model: &Model,
	tokenizer: &TextTokenizer,
	name: &str,
	texts: &[String],
) -> Result<Embeddings, String> {
	let mut out = Embeddings {
		model: name.to_string(),
		dimensions: model.dimensions,
		embeddings: Vec::with_capacity(texts.len()),
		token_counts: Vec::with_capacity(texts.len()),
		total_tokens: 0,
		truncated: Vec::new(),
	};
	for (i, text) in texts.iter().enumerate() {
		let tokens = tokenizer.encode(text).map_err(|e| format!("text {i}: {e}"))?;
		out.embeddings.push(model.embed(&tokens.ids).map_err(|e| format!("text {i}: {e}"))?);
		out.token_counts.push(tokens.ids.len());
		out.total_tokens += tokens.ids.len();
		if tokens.truncated {
			out.truncated.push(i);
		}
	}
	Ok(out)
}
