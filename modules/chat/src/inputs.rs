//! The job's inputs, as `lilypad-module.toml` declares them: the conversation as the file
//! `/inputs/messages` (or, for one longer than an inline value may be, the job's blob,
//! `/inputs/blob`), the settings as `--name=value` arguments. The agent passes each setting's
//! default when the job gives none; the same defaults apply here when run by hand.
use std::path::Path;

use crate::{sampling::SamplingParams, template::Message};

/// Tokens generated at most when `max_tokens` is not given.
pub const DEFAULT_MAX_TOKENS: usize = 256;

/// What one run is asked.
#[derive(Debug, PartialEq)]
pub struct Request {
	pub messages: Vec<Message>,
	pub max_tokens: usize,
	pub sampling: SamplingParams,
	/// Generation ends where any of these would appear; none is empty.
	pub stop: Vec<String>,
}

/// Reads the request from `args` (the program's arguments, without its name) and the files in
/// `inputs`.
pub fn read(args: impl IntoIterator<Item = String>, inputs: &Path) -> Result<Request, String> {
	let mut request = Request {
		messages: Vec::new(),
		max_tokens: DEFAULT_MAX_TOKENS,
		sampling: SamplingParams { temperature: 0.0, top_p: 1.0, seed: 0 },
		stop: Vec::new(),
	};
	let mut seen = Vec::new();
	for arg in args {
		let (name, value) = arg
			.strip_prefix("--")
			.and_then(|a| a.split_once('='))
			.ok_or_else(|| format!("argument {arg:?} is not --name=value"))?;
		if seen.contains(&name.to_string()) {
			return Err(format!("{name} is given twice"));
		}
		seen.push(name.to_string());
		let number = |what: &str| format!("{name} {value:?} is not {what}");
		match name {
			"max_tokens" => {
				request.max_tokens = value.parse().map_err(|_| number("a whole number"))?;
				if request.max_tokens == 0 {
					return Err("max_tokens must be at least 1".into());
				}
			}
			"temperature" => {
				request.sampling.temperature = value.parse().map_err(|_| number("a number"))?
			}
			"top_p" => request.sampling.top_p = value.parse().map_err(|_| number("a number"))?,
			"seed" => {
				request.sampling.seed = value.parse().map_err(|_| number("a whole number >= 0"))?
			}
			"stop" => request.stop = parse_stop(value)?,
			_ => return Err(format!("unknown input {name}")),
		}
	}
	request.sampling.check()?;
	let (file, text) = model_kit::file_or_blob(inputs, "messages")?.ok_or(
		"no conversation: give the input `messages` (or a blob) holding a JSON list of \
		 {\"role\", \"content\"}",
	)?;
	request.messages = serde_json::from_slice(&text).map_err(|e| {
		format!("{file}: {e} (expected a JSON list of {{\"role\": \"system\"|\"user\"|\"assistant\", \"content\": \"...\"}})")
	})?;
	if request.messages.is_empty() {
		return Err(format!("{file}: the conversation has no message"));
	}
	Ok(request)
}

/// `stop`: a JSON list of strings, one JSON string, or (not starting with `[` or `"`) the
/// text itself.
fn parse_stop(value: &str) -> Result<Vec<String>, String> {
	let stops = if value.starts_with(['[', '"']) {
		match serde_json::from_str::<serde_json::Value>(value) {
			Ok(serde_json::Value::String(s)) => vec![s],
			Ok(list) => serde_json::from_value::<Vec<String>>(list)
				.map_err(|_| format!("stop {value:?} is not a list of strings"))?,
			Err(e) => return Err(format!("stop {value:?} is not JSON: {e}")),
		}
	} else {
		vec![value.to_string()]
	};
	if stops.iter().any(String::is_empty) {
		return Err("a stop string is empty".into());
	}
	Ok(stops)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::template::Role;

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
		let d = std::env::temp_dir().join(format!("chat-inputs-{}-{n}", std::process::id()));
		std::fs::create_dir_all(&d).unwrap();
		for (name, text) in files {
			std::fs::write(d.join(name), text).unwrap();
		}
		Dir(d)
	}

	fn args(a: &[&str]) -> Vec<String> {
		a.iter().map(|s| s.to_string()).collect()
	}

	const HI: &str = r#"[{"role": "user", "content": "Hi"}]"#;

	#[test]
	fn defaults_apply_when_only_the_conversation_is_given() {
		let d = dir(&[("messages", HI)]);
		let r = read(args(&[]), &d.0).unwrap();
		assert_eq!(r.messages, [Message { role: Role::User, content: "Hi".into() }]);
		assert_eq!(r.max_tokens, 256);
		assert_eq!(r.sampling, SamplingParams { temperature: 0.0, top_p: 1.0, seed: 0 });
		assert!(r.stop.is_empty());
	}

	#[test]
	fn settings_come_as_arguments() {
		let d = dir(&[("messages", HI)]);
		let a = [
			"--max_tokens=12",
			"--temperature=0.7",
			"--top_p=0.9",
			"--seed=18446744073709551615",
			"--stop=[\"\\n\\n\", \"User:\"]",
		];
		let r = read(args(&a), &d.0).unwrap();
		assert_eq!(r.max_tokens, 12);
		assert_eq!(r.sampling, SamplingParams { temperature: 0.7, top_p: 0.9, seed: u64::MAX });
		assert_eq!(r.stop, ["\n\n", "User:"]);
	}

	#[test]
	fn a_stop_is_a_list_a_json_string_or_plain_text() {
		assert_eq!(parse_stop("\"\\n\"").unwrap(), ["\n"]);
		assert_eq!(parse_stop("END=1").unwrap(), ["END=1"]);
		assert_eq!(parse_stop("[]").unwrap(), Vec::<String>::new());
		assert!(parse_stop("[1]").is_err());
		assert!(parse_stop("[\"\"]").is_err());
		assert!(parse_stop("\"unterminated").is_err());
	}

	#[test]
	fn the_blob_holds_a_conversation_too_long_to_be_inline() {
		let d = dir(&[("blob", HI)]);
		assert_eq!(read(args(&[]), &d.0).unwrap().messages.len(), 1);
	}

	#[test]
	fn bad_inputs_are_refused_with_their_name() {
		let d = dir(&[("messages", HI)]);
		let err = |a: &[&str]| read(args(a), &d.0).unwrap_err();
		assert!(err(&["--max_tokens=0"]).contains("max_tokens"));
		assert!(err(&["--max_tokens=-3"]).contains("max_tokens"));
		assert!(err(&["--temperature=hot"]).contains("temperature"));
		assert!(err(&["--top_p=0"]).contains("top_p"));
		assert!(err(&["--seed=-1"]).contains("seed"));
		assert!(err(&["--bogus=1"]).contains("bogus"));
		assert!(err(&["max_tokens=1"]).contains("--name=value"));
		assert!(err(&["--seed=1", "--seed=2"]).contains("twice"));
		let none = dir(&[]);
		assert!(read(args(&[]), &none.0).unwrap_err().contains("messages"));
		for bad in ["[]", "{}", r#"[{"role": "tool", "content": "x"}]"#, r#"[{"role": "user"}]"#] {
			let d = dir(&[("messages", bad)]);
			assert!(read(args(&[]), &d.0).unwrap_err().starts_with("messages:"), "{bad}");
		}
	}
}
