//! The generation loop: the prompt through the model, then a token at a time until an
//! end-of-text token, a stop string or `max_tokens`, each token streamed to stdout as it comes.
use std::{
	io::Write,
	time::{Duration, Instant},
};

use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use serde::Serialize;

use crate::{
	inputs::Request,
	stream::{Step, Stream},
	tokenizer::ChatTokenizer,
};

/// Prompt tokens given to the model at once. Attention over a whole chunk needs a
/// chunk × context matrix per head; this keeps it near 36 MiB at full context. Fixed, so that
/// every provider computes the prompt the same way.
const PREFILL_CHUNK: usize = 256;

/// Why generation ended (OpenAI's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
	/// An end-of-text token or a stop string.
	Stop,
	/// `max_tokens` were generated.
	Length,
}

/// `/outputs/completion.json`.
#[derive(Debug, Serialize)]
pub struct Completion {
	/// What was streamed, concatenated: no stop string, no end-of-text token.
	pub text: String,
	/// Every token sampled, the one that ended generation included.
	pub token_ids: Vec<u32>,
	pub finish_reason: FinishReason,
	pub prompt_tokens: usize,
	pub completion_tokens: usize,
}

/// How long it took (for stderr: not part of the result, which must not depend on it).
pub struct Timings {
	/// From the prompt's first chunk to the first token sampled.
	pub first_token: Duration,
	/// From the first token sampled to the last.
	pub rest: Duration,
}

/// One line of the stream: the token and the text it lets out.
#[derive(Serialize)]
struct Line<'a> {
	id: u32,
	text: &'a str,
}

/// Runs the model on `prompt` and samples up to `request.max_tokens` tokens, writing a
/// [`Line`] per token to `out` (flushed each time). `end` are the end-of-text token ids.
pub fn generate(
	model: &mut ModelWeights,
	tokenizer: &ChatTokenizer,
	prompt: &[u32],
	end: &[u32],
	request: &Request,
	device: &Device,
	out: &mut impl Write,
) -> Result<(Completion, Timings), String> {
	let started = Instant::now();
	let model_err = |e: candle_core::Error| format!("model: {e}");
	let mut forward = |tokens: &[u32], at: usize| -> Result<Tensor, String> {
		let input = Tensor::new(tokens, device).and_then(|t| t.unsqueeze(0));
		model.forward(&input.map_err(model_err)?, at).and_then(|l| l.squeeze(0)).map_err(model_err)
	};
	let mut logits = None;
	for (i, chunk) in prompt.chunks(PREFILL_CHUNK).enumerate() {
		logits = Some(forward(chunk, i * PREFILL_CHUNK)?);
	}
	let mut logits = logits.ok_or("the prompt is empty")?;
	let mut sampler = request.sampling.processor();
	let mut stream = Stream::new(request.stop.clone());
	let mut text = String::new();
	let mut token_ids = Vec::new();
	let mut first_token = None;
	let finish_reason = loop {
		let id = sampler.sample(&logits).map_err(model_err)?;
		first_token.get_or_insert_with(|| started.elapsed());
		token_ids.push(id);
		let (piece, reason) = if end.contains(&id) {
			(stream.finish(), Some(FinishReason::Stop))
		} else {
			match stream.push(tokenizer.token_bytes(id)) {
				Step::Stop(piece) => (piece, Some(FinishReason::Stop)),
				Step::Text(mut piece) if token_ids.len() == request.max_tokens => {
					piece.push_str(&stream.finish());
					(piece, Some(FinishReason::Length))
				}
				Step::Text(piece) => (piece, None),
			}
		};
		let line =
			serde_json::to_string(&Line { id, text: &piece }).expect("strings serialize; qed");
		writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| format!("stdout: {e}"))?;
		text.push_str(&piece);
		if let Some(reason) = reason {
			break reason;
		}
		logits = forward(&[id], prompt.len() + token_ids.len() - 1)?;
	};
	let first_token = first_token.expect("at least one token was sampled; qed");
	let completion = Completion {
		text,
		completion_tokens: token_ids.len(),
		token_ids,
		finish_reason,
		prompt_tokens: prompt.len(),
	};
	Ok((completion, Timings { first_token, rest: started.elapsed() - first_token }))
}
