//! `chat`: a chat completion from SmolLM2-135M-Instruct (a GGUF model the job's module names,
//! mounted read-only at `/models/<name>`), computed on the CPU with candle: in WASM the same
//! inputs give the same tokens on every provider.
//!
//! - **Inputs** ([`inputs`]): the conversation as `/inputs/messages` (or the job's blob), a JSON
//!   list of `{"role", "content"}`; `--max_tokens`, `--temperature` (0: greedy), `--top_p`,
//!   `--seed` and `--stop` (a string or a JSON list of strings) as arguments.
//! - **Stream**: stdout gets one JSON line per generated token, flushed,
//!   `{"id": <token id>, "text": "<the text this token lets out>"}`; see [`stream`] for what
//!   waits (unfinished characters, a possible stop string).
//! - **Result**: `/outputs/completion.json`, `{"text", "token_ids", "finish_reason",
//!   "prompt_tokens", "completion_tokens"}` ([`generate::Completion`]).
//! - **Logs**: stderr gets the load time, the time to the first token and the tokens per second.
//!
//! Exits 2 when the request is wrong (bad inputs, prompt and `max_tokens` beyond the model's
//! 4096-token context), 1 when the model cannot be loaded or run.
//!
//! Run by hand, `LILYPAD_CHAT_GGUF`, `LILYPAD_CHAT_INPUTS` and `LILYPAD_CHAT_OUTPUTS` replace
//! the model path and the `/inputs` and `/outputs` directories.
use std::{
	path::PathBuf,
	process::ExitCode,
	time::Instant,
};

use candle_transformers::models::quantized_llama::MAX_SEQ_LEN;

mod generate;
mod gguf;
#[cfg(test)]
mod golden_tests;
mod inputs;
mod sampling;
mod stream;
mod template;
mod tokenizer;

use model_kit::{bad_request, dir, failed, Failure};

/// The GGUF: the first model in `LILYPAD_MODELS`, `/models/<name>/weights.gguf` (how the agent
/// stores a one-file model) or the only `.gguf` file there.
fn model_path() -> Result<PathBuf, Failure> {
	if let Some(path) = std::env::var_os("LILYPAD_CHAT_GGUF").filter(|p| !p.is_empty()) {
		return Ok(path.into());
	}
	let dir = model_kit::mounted_model_dir()?;
	let weights = dir.join("weights.gguf");
	if weights.is_file() {
		return Ok(weights);
	}
	let ggufs: Vec<PathBuf> = std::fs::read_dir(&dir)
		.map_err(|e| failed(format!("{}: {e}", dir.display())))?
		.filter_map(|e| e.ok().map(|e| e.path()))
		.filter(|p| p.extension().is_some_and(|x| x == "gguf"))
		.collect();
	match &ggufs[..] {
		[one] => Ok(one.clone()),
		_ => Err(failed(format!("{} holds {} .gguf files, not one", dir.display(), ggufs.len()))),
	}
}

fn run() -> Result<(), Failure> {
	// One thread: under WASI there is no other, and natively the result must not depend on it.
	tokenizers::utils::parallelism::set_parallelism(false);
	let request = inputs::read(std::env::args().skip(1), &dir("LILYPAD_CHAT_INPUTS", "/inputs"))
		.map_err(bad_request)?;
	let path = model_path()?;

	let mut started = Instant::now();
	let mut gguf = gguf::Gguf::open(&path).map_err(failed)?;
	let tokenizer = tokenizer::ChatTokenizer::new(gguf.take_vocab().map_err(failed)?)
		.map_err(|e| failed(format!("tokenizer: {e}")))?;
	let template = gguf.string("tokenizer.chat_template").map_err(failed)?;
	let parts = template::render(template, &request.messages, true).map_err(failed)?;
	let prompt = tokenizer.encode_prompt(&parts).map_err(failed)?;
	if prompt.len() + request.max_tokens > MAX_SEQ_LEN {
		return Err(bad_request(format!(
			"the prompt is {} tokens and max_tokens {}: together more than the {MAX_SEQ_LEN} \
			 tokens of context",
			prompt.len(),
			request.max_tokens
		)));
	}
	let mut end = vec![gguf.u32("tokenizer.ggml.eos_token_id").map_err(failed)?];
	end.extend(tokenizer.special_id("<|endoftext|>"));
	eprintln!(
		"[chat] read the metadata of {} and built the tokenizer ({} tokens) in {} ms",
		path.display(),
		tokenizer.vocab_size(),
		started.elapsed().as_millis()
	);
	started = Instant::now();
	let device = model_kit::device().map_err(failed)?;
	let mut model = gguf.load_model(&device).map_err(failed)?;
	eprintln!("[chat] loaded weights in {} ms", started.elapsed().as_millis());

	let (completion, timings) = generate::generate(
		&mut model,
		&tokenizer,
		&prompt,
		&end,
		&request,
		&device,
		&mut std::io::stdout().lock(),
	)
	.map_err(failed)?;
	let rest = completion.completion_tokens - 1;
	eprintln!(
		"[chat] prompt {} tokens, first token after {} ms; {} tokens, {:.1} tokens/s after the \
		 first; finish_reason {:?}",
		completion.prompt_tokens,
		timings.first_token.as_millis(),
		completion.completion_tokens,
		if rest == 0 { 0.0 } else { rest as f64 / timings.rest.as_secs_f64() },
		completion.finish_reason
	);
	let out = dir("LILYPAD_CHAT_OUTPUTS", "/outputs").join("completion.json");
	let json = serde_json::to_vec(&completion).expect("the completion serializes; qed");
	std::fs::write(&out, json).map_err(|e| failed(format!("{}: {e}", out.display())))
}

fn main() -> ExitCode {
	model_kit::exit("chat", run())
}
