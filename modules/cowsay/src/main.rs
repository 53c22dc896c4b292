//! `cowsay`: the cow says the job's `Message` (delivered as an environment variable).
//!
//! Writes the picture to stdout and to `/outputs/cow.txt`; exits 2 without a message.
use std::{fs, process::ExitCode};

/// The speech bubble and the cow, for `message` wrapped at 40 columns.
fn cow(message: &str) -> String {
	let mut lines: Vec<String> = Vec::new();
	for word in message.split_whitespace() {
		match lines.last_mut() {
			Some(line) if line.chars().count() + 1 + word.chars().count() <= 40 => {
				line.push(' ');
				line.push_str(word);
			}
			_ => lines.push(word.to_string()),
		}
	}
	if lines.is_empty() {
		lines.push(String::new());
	}
	let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
	let mut out = format!(" {}\n", "_".repeat(width + 2));
	for (i, line) in lines.iter().enumerate() {
		let (l, r) = match (lines.len(), i) {
			(1, _) => ('<', '>'),
			(_, 0) => ('/', '\\'),
			(n, i) if i == n - 1 => ('\\', '/'),
			_ => ('|', '|'),
		};
		out.push_str(&format!("{l} {line:width$} {r}\n"));
	}
	out.push_str(&format!(" {}\n", "-".repeat(width + 2)));
	out.push_str("        \\   ^__^\n         \\  (oo)\\_______\n            (__)\\       )\\/\\\n                ||----w |\n                ||     ||\n");
	out
}

fn main() -> ExitCode {
	let Ok(message) = std::env::var("Message") else {
		eprintln!("cowsay: no Message input");
		return ExitCode::from(2);
	};
	let picture = cow(&message);
	print!("{picture}");
	if let Err(e) = fs::write("/outputs/cow.txt", &picture) {
		eprintln!("cowsay: cannot write /outputs/cow.txt: {e}");
		return ExitCode::from(1);
	}
	ExitCode::SUCCESS
}
