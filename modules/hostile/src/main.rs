//! `hostile`: a module that tries to escape or exhaust its container, for the agent's tests.
//! It is never published. Its one argument names the attack:
//!
//! - `network ADDR`: connect to `ADDR` and send a line; exits 0 only if that worked.
//! - `write PATH`: write `PATH` (outside `/outputs`); exits 0 only if that worked.
//! - `fork-bomb`: spawns copies of itself that spawn copies, forever.
//! - `memory-bomb`: allocates and touches memory, forever.
//! - `spin`: loops forever.
//!
//! An attack that is stopped ends the run with a failure (an error exit, a kill for memory or
//! at the timeout): the outcome a contained container must give.
use std::{io::Write, process::ExitCode};

fn main() -> ExitCode {
	let args: Vec<String> = std::env::args().skip(1).collect();
	match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
		["network", addr] => {
			match std::net::TcpStream::connect(addr).and_then(|mut s| s.write_all(b"escaped\n")) {
				Ok(()) => {
					println!("hostile: reached {addr}");
					ExitCode::SUCCESS
				}
				Err(e) => {
					eprintln!("hostile: cannot reach {addr}: {e}");
					ExitCode::from(3)
				}
			}
		}
		["write", path] => match std::fs::write(path, b"escaped\n") {
			Ok(()) => {
				println!("hostile: wrote {path}");
				ExitCode::SUCCESS
			}
			Err(e) => {
				eprintln!("hostile: cannot write {path}: {e}");
				ExitCode::from(4)
			}
		},
		["fork-bomb"] => {
			let me = std::env::current_exe().unwrap_or_else(|_| "/hostile".into());
			loop {
				// Failures (the process limit) are ignored: a bomb keeps trying.
				let _ = std::process::Command::new(&me).arg("fork-bomb").spawn();
			}
		}
		["memory-bomb"] => {
			let mut hoard: Vec<Vec<u8>> = Vec::new();
			loop {
				hoard.push(vec![1u8; 16 << 20]);
				std::hint::black_box(&hoard);
			}
		}
		["spin"] => {
			let mut x = 0u64;
			loop {
				x = std::hint::black_box(x.wrapping_add(1));
			}
		}
		_ => {
			eprintln!("hostile: usage: network ADDR | write PATH | fork-bomb | memory-bomb | spin");
			ExitCode::from(2)
		}
	}
}
