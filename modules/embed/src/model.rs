//! The model: a directory of sentence-transformers files (how the agent mounts a model whose
//! weights are a directory, `/models/<name>/`), and the BERT encoder they describe, run with
//! candle on the CPU.
//!
//! The directory holds, as sentence-transformers lays it out:
//!
//! - `model.safetensors`: the encoder's weights, `f32`;
//! - `config.json`: the encoder's shape (transformers' `BertConfig`);
//! - `tokenizer.json`: the tokenizer ([`crate::tokenizer`]);
//! - `sentence_bert_config.json`: `max_seq_length`, the tokens a text is truncated to;
//! - `1_Pooling/config.json`: how token vectors become a text's vector; only the mean is
//!   implemented ([`crate::pooling`]), and a model that pools otherwise is refused.
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;

use crate::{pooling, tokenizer::TextTokenizer};

pub const WEIGHTS: &str = "model.safetensors";
pub const CONFIG: &str = "config.json";
pub const TOKENIZER: &str = "tokenizer.json";
pub const SENTENCE_CONFIG: &str = "sentence_bert_config.json";
pub const POOLING_CONFIG: &str = "1_Pooling/config.json";

/// What this module reads of `sentence_bert_config.json`.
#[derive(Deserialize)]
struct SentenceConfig {
	max_seq_length: usize,
}

/// The encoder and what it takes and gives.
pub struct Model {
	bert: BertModel,
	/// The length of a token's vector, and so of an embedding (384 for MiniLM-L6).
	pub dimensions: usize,
	/// The tokens a text is truncated to, `[CLS]` and `[SEP]` included.
	pub max_tokens: usize,
	/// Where the weights are, and so every tensor of a run.
	device: Device,
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> Result<T, String> {
	let path = dir.join(file);
	let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
	serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Refuses a pooling other than the mean of the token vectors, or of another width.
fn check_pooling(
	pooling: &serde_json::Map<String, serde_json::Value>,
	hidden: usize,
) -> Result<(), String> {
	let dimension = pooling.get("word_embedding_dimension").and_then(|d| d.as_u64());
	if dimension != Some(hidden as u64) {
		return Err(format!(
			"{POOLING_CONFIG}: word_embedding_dimension is {dimension:?}, and the encoder's \
			 hidden_size {hidden}"
		));
	}
	for (key, value) in pooling.iter().filter(|(k, _)| k.starts_with("pooling_mode_")) {
		let want = key == "pooling_mode_mean_tokens";
		if value.as_bool() != Some(want) {
			return Err(format!(
				"{POOLING_CONFIG}: {key} is {value}: this module pools by the mean of the \
				 tokens only"
			));
		}
	}
	if !pooling.contains_key("pooling_mode_mean_tokens") {
		return Err(format!("{POOLING_CONFIG}: pooling_mode_mean_tokens is missing"));
	}
	Ok(())
}

/// Loads the model and its tokenizer from `dir`.
pub fn load(dir: &Path) -> Result<(Model, TextTokenizer), String> {
	let config: Config = read_json(dir, CONFIG)?;
	if let Some(kind) = config.model_type.as_deref().filter(|k| *k != "bert") {
		return Err(format!("{CONFIG}: model_type is {kind:?}, not \"bert\""));
	}
	let SentenceConfig { max_seq_length } = read_json(dir, SENTENCE_CONFIG)?;
	if !(2..=config.max_position_embeddings).contains(&max_seq_length) {
		return Err(format!(
			"{SENTENCE_CONFIG}: max_seq_length {max_seq_length} is not between 2 (for [CLS] \
			 and [SEP]) and the {} positions the encoder has",
			config.max_position_embeddings
		));
	}
	check_pooling(&read_json(dir, POOLING_CONFIG)?, config.hidden_size)?;
	let tokenizer = TextTokenizer::load(&dir.join(TOKENIZER), max_seq_length)?;
	if tokenizer.vocab_size() != config.vocab_size {
		return Err(format!(
			"{TOKENIZER} has {} tokens and {CONFIG} vocab_size {}",
			tokenizer.vocab_size(),
			config.vocab_size
		));
	}

	// One read: under WASI every read is a call out of the sandbox.
	let path = dir.join(WEIGHTS);
	let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
	let device = model_kit::device()?;
	let weights = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
		.map_err(|e| format!("{}: {e}", path.display()))?;
	let bert = BertModel::load(weights, &config).map_err(|e| format!("{}: {e}", path.display()))?;
	let model = Model { bert, dimensions: config.hidden_size, max_tokens: max_seq_length, device };
	Ok((model, tokenizer))
}

impl Model {
	/// The embedding of one text's tokens (`[CLS]` ... `[SEP]`): the mean of the encoder's
	/// output vectors, of length 1.
	pub fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, String> {
		let run = || -> candle_core::Result<Vec<Vec<f32>>> {
			let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
			// One segment; every token attended to (no mask: there is no padding).
			let segments = input.zeros_like()?;
			let hidden = self.bert.forward(&input, &segments, None)?;
			hidden.squeeze(0)?.to_vec2::<f32>()
		};
		let tokens = run().map_err(|e| format!("the encoder failed: {e}"))?;
		pooling::mean_normalized(&tokens, self.dimensions)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn pooling(json: &str) -> serde_json::Map<String, serde_json::Value> {
		serde_json::from_str(json).unwrap()
	}

	#[test]
	fn only_mean_pooling_of_the_right_width_is_taken() {
		let mean = r#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": false,
			"pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false,
			"pooling_mode_mean_sqrt_len_tokens": false}"#;
		check_pooling(&pooling(mean), 384).unwrap();
		let err = check_pooling(&pooling(mean), 768).unwrap_err();
		assert!(err.contains("word_embedding_dimension is Some(384)"), "{err}");
		let cls = mean.replace("cls_token\": false", "cls_token\": true");
		let err = check_pooling(&pooling(&cls), 384).unwrap_err();
		assert!(err.contains("pooling_mode_cls_token is true"), "{err}");
		let none = mean.replace("mean_tokens\": true", "mean_tokens\": false");
		assert!(check_pooling(&pooling(&none), 384).is_err());
		let missing = r#"{"word_embedding_dimension": 384}"#;
		assert!(check_pooling(&pooling(missing), 384).unwrap_err().contains("missing"));
	}
}
