//! The module's tokens and vectors against `golden/embeddings.json` (a numpy float64 BERT over the
//! same weights, HuggingFace's tokenizer, `scripts/golden-embeddings.py`), with the model read
//! from the package `scripts/setup-models.sh` makes,
//! `~/.cache/lilypad/models/packages/all-minilm-l6-v2/files`, or `LILYPAD_EMBED_MODEL_DIR`.
//! Without the model these tests say so and pass: run `scripts/setup-models.sh` first. With
//! `LILYPAD_EMBED_MODEL_DIR` set, a missing model is a failure.
use std::{path::PathBuf, sync::OnceLock};

use serde::Deserialize;

use crate::{
	embeddings,
	model::{self, Model},
	pooling::cosine,
	tokenizer::TextTokenizer,
};

/// How far a component may be from the reference's: float32 against float64, through six
/// layers.
const TOLERANCE: f64 = 1e-4;

#[derive(Deserialize)]
struct Golden {
	header: Header,
	cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Header {
	max_seq_length: usize,
	dimensions: usize,
}

#[derive(Deserialize)]
struct Case {
	text: String,
	ids: Vec<u32>,
	truncated: bool,
	embedding: Vec<f64>,
}

fn golden() -> Golden {
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/embeddings.json");
	serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The model's directory, if this machine has it.
fn model_dir() -> Option<PathBuf> {
	if let Some(dir) = std::env::var_os("LILYPAD_EMBED_MODEL_DIR").map(PathBuf::from) {
		// Named on purpose (as scripts/test.sh does): a missing model is a failure, not a skip.
		assert!(
			dir.join(model::WEIGHTS).is_file(),
			"LILYPAD_EMBED_MODEL_DIR={} holds no {}",
			dir.display(),
			model::WEIGHTS
		);
		return Some(dir);
	}
	let models = std::env::var_os("LILYPAD_MODELS_DIR").map(PathBuf::from).or_else(|| {
		std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/lilypad/models"))
	})?;
	let dir = models.join("packages/all-minilm-l6-v2/files");
	if dir.join(model::WEIGHTS).is_file() {
		return Some(dir);
	}
	eprintln!(
		"note: no all-MiniLM-L6-v2 at {}; run scripts/setup-models.sh. Skipped.",
		dir.display()
	);
	None
}

/// The model, loaded once for all the tests.
fn model() -> Option<&'static (Model, TextTokenizer)> {
	static MODEL: OnceLock<Option<(Model, TextTokenizer)>> = OnceLock::new();
	MODEL.get_or_init(|| model_dir().map(|dir| model::load(&dir).unwrap())).as_ref()
}

fn texts(cases: &[Case]) -> Vec<String> {
	cases.iter().map(|c| c.text.clone()).collect()
}

#[test]
fn texts_tokenize_as_the_reference_does() {
	let Some((model, tokenizer)) = model() else { return };
	let golden = golden();
	assert_eq!(model.max_tokens, golden.header.max_seq_length);
	for case in &golden.cases {
		let tokens = tokenizer.encode(&case.text).unwrap();
		assert_eq!(tokens.ids, case.ids, "{:?}", case.text);
		assert_eq!(tokens.truncated, case.truncated, "{:?}", case.text);
	}
}

#[test]
fn embeddings_match_the_reference() {
	let Some((model, tokenizer)) = model() else { return };
	let golden = golden();
	assert_eq!(model.dimensions, golden.header.dimensions);
	let result = embeddings::embed(model, tokenizer, "m", &texts(&golden.cases)).unwrap();
	let mut worst = 0f64;
	for (case, ours) in golden.cases.iter().zip(&result.embeddings) {
		assert_eq!(ours.len(), case.embedding.len(), "{:?}", case.text);
		for (i, (a, b)) in ours.iter().zip(&case.embedding).enumerate() {
			let off = (f64::from(*a) - b).abs();
			assert!(off <= TOLERANCE, "{:?}: component {i} is {a}, the reference's {b}", case.text);
			worst = worst.max(off);
		}
	}
	eprintln!("largest difference from the reference: {worst:.2e}");
}

#[test]
fn embeddings_have_length_one() {
	let Some((model, tokenizer)) = model() else { return };
	let golden = golden();
	let result = embeddings::embed(model, tokenizer, "m", &texts(&golden.cases)).unwrap();
	for (case, e) in golden.cases.iter().zip(&result.embeddings) {
		let norm = cosine(e, e).sqrt();
		assert!((norm - 1.0).abs() <= 1e-5, "{:?}: norm {norm}", case.text);
	}
}

#[test]
fn a_paraphrase_ranks_above_unrelated_sentences() {
	let Some((model, tokenizer)) = model() else { return };
	let texts = [
		"A man is eating food.",
		"A man is eating a piece of bread.",
		"The new movie is awesome.",
		"A cheetah is running behind its prey.",
	]
	.map(String::from);
	let e = embeddings::embed(model, tokenizer, "m", &texts).unwrap().embeddings;
	let (paraphrase, movie, cheetah) =
		(cosine(&e[0], &e[1]), cosine(&e[0], &e[2]), cosine(&e[0], &e[3]));
	// sentence-transformers gives 0.7553 for the pair.
	assert!((paraphrase - 0.7553).abs() < 1e-3, "{paraphrase}");
	assert!(
		paraphrase > movie + 0.5 && paraphrase > cheetah + 0.5,
		"{paraphrase} {movie} {cheetah}"
	);
}

#[test]
fn a_text_embeds_the_same_alone_among_others_and_every_time() {
	let Some((model, tokenizer)) = model() else { return };
	let [a, b, c] = ["Deterministic.", "A much longer text, with more tokens than the first.", ""]
		.map(String::from);
	let alone = embeddings::embed(model, tokenizer, "m", std::slice::from_ref(&a)).unwrap();
	let among = embeddings::embed(model, tokenizer, "m", &[b, a.clone(), c]).unwrap();
	assert_eq!(alone.embeddings[0], among.embeddings[1]);
	let again = embeddings::embed(model, tokenizer, "m", &[a]).unwrap();
	assert_eq!(serde_json::to_string(&alone).unwrap(), serde_json::to_string(&again).unwrap());
}

#[test]
fn the_result_counts_tokens_and_names_what_was_truncated() {
	let Some((model, tokenizer)) = model() else { return };
	let long = "word ".repeat(300);
	let texts = ["Hello, world!".to_string(), long, String::new()];
	let result = embeddings::embed(model, tokenizer, "all-minilm-l6-v2", &texts).unwrap();
	// [CLS] hello , world ! [SEP]; 254 words and the two special tokens; [CLS] [SEP].
	assert_eq!(result.token_counts, [6, 256, 2]);
	assert_eq!(result.total_tokens, 264);
	assert_eq!(result.truncated, [1]);
	let json: serde_json::Value = serde_json::to_value(&result).unwrap();
	assert_eq!(json["model"], "all-minilm-l6-v2");
	assert_eq!(json["dimensions"], 384);
	assert_eq!(json["embeddings"].as_array().unwrap().len(), 3);
	assert_eq!(json["embeddings"][2].as_array().unwrap().len(), 384);
}
