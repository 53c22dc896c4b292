//! `embed`: sentence embeddings from all-MiniLM-L6-v2 (a sentence-transformers model the job's
//! module names, mounted read-only as a directory at `/models/<name>/`), computed on the CPU with
//! candle: in WASM the same texts give the same vectors, bit for bit, on every provider.
//!
//! - **Input** ([`inputs`]): `texts`, a JSON list of 1 to [`inputs::MAX_TEXTS`] strings, as the
//!   file `/inputs/texts` (or the job's blob).
//! - **Method**: each text is tokenized ([`tokenizer`]: BERT's uncased WordPiece, truncated to
//!   the model's `max_seq_length`, 256 tokens), run through the BERT encoder ([`model`]), and its
//!   token vectors averaged and scaled to length 1 ([`pooling`]), as sentence-transformers does;
//!   one text at a time ([`embeddings`] says why).
//! - **Result**: `/outputs/embeddings.json`, `{"model", "dimensions", "embeddings",
//!   "token_counts", "total_tokens", "truncated"}` ([`embeddings::Embeddings`]).
//! - **Logs**: stderr gets the load time and the texts per second.
//!
//! Exits 2 when the request is wrong (no texts, not a list of strings, too many), 1 when the
//! model cannot be loaded or run.
//!
//! Run by hand, `LILYPAD_EMBED_MODEL_DIR`, `LILYPAD_EMBED_INPUTS` and `LILYPAD_EMBED_OUTPUTS`
//! replace the model's directory and the `/inputs` and `/outputs` directories.
use std::{
	path::PathBuf,
	process::ExitCode,
	time::Instant,
};

mod embeddings;
#[cfg(test)]
mod golden_tests;
mod inputs;
mod model;
mod pooling;
mod tokenizer;

use model_kit::{bad_request, dir, failed, mounted_model, Failure};

/// The model this module is published with: the name results carry when none is mounted (a run
/// by hand).
const MODEL_NAME: &str = "all-minilm-l6-v2";

/// The model's directory: `LILYPAD_EMBED_MODEL_DIR`, or `/models/<the first mounted model>`.
fn model_dir() -> Result<PathBuf, Failure> {
	if let Some(dir) = std::env::var_os("LILYPAD_EMBED_MODEL_DIR").filter(|d| !d.is_empty()) {
		return Ok(dir.into());
	}
	model_kit::mounted_model_dir()
}

fn run() -> Result<(), Failure> {
	// One thread: under WASI there is no other, and natively the result must not depend on it.
	tokenizers::utils::parallelism::set_parallelism(false);
	let texts = inputs::read(std::env::args().skip(1), &dir("LILYPAD_EMBED_INPUTS", "/inputs"))
		.map_err(bad_request)?;
	let files = model_dir()?;

	let started = Instant::now();
	let (model, tokenizer) = model::load(&files).map_err(failed)?;
	let load = started.elapsed();

	let started = Instant::now();
	let name = mounted_model().unwrap_or_else(|| MODEL_NAME.to_string());
	let result = embeddings::embed(&model, &tokenizer, &name, &texts).map_err(failed)?;
	let took = started.elapsed();
	eprintln!(
		"[embed] loaded {} in {} ms; {} texts, {} tokens ({} truncated to {}) in {} ms: {:.1} \
		 texts/s",
		files.display(),
		load.as_millis(),
		texts.len(),
		result.total_tokens,
		result.truncated.len(),
		model.max_tokens,
		took.as_millis(),
		texts.len() as f64 / took.as_secs_f64()
	);
	let out = dir("LILYPAD_EMBED_OUTPUTS", "/outputs").join("embeddings.json");
	let json = serde_json::to_vec(&result).expect("the embeddings serialize; qed");
	std::fs::write(&out, json).map_err(|e| failed(format!("{}: {e}", out.display())))
}

fn main() -> ExitCode {
	model_kit::exit("embed", run())
}
