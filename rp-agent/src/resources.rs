//! What this machine has to offer: CPU cores, RAM and the disk under the data directory.
use std::path::Path;

/// The machine's totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Machine {
	pub cpu_millicores: u32,
	pub ram_mib: u32,
	/// Free disk space under the data directory, in whole GiB (so that the offer does not
	/// change with every file written).
	pub disk_mib: u32,
}

/// Detects the machine's CPU, RAM and free disk under `data_dir`.
pub fn detect(data_dir: &Path) -> anyhow::Result<Machine> {
	let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as u32;
	let meminfo = std::fs::read_to_string("/proc/meminfo")?;
	let ram_kib: u64 = meminfo
		.lines()
		.find_map(|l| l.strip_prefix("MemTotal:"))
		.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
		.ok_or_else(|| anyhow::anyhow!("no MemTotal in /proc/meminfo"))?;
	Ok(Machine {
		cpu_millicores: cores.saturating_mul(1_000),
		ram_mib: (ram_kib / 1024).min(u32::MAX as u64) as u32,
		disk_mib: free_disk_mib(data_dir)?,
	})
}

fn free_disk_mib(path: &Path) -> anyhow::Result<u32> {
	use std::os::unix::ffi::OsStrExt;
	let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
	let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
	// SAFETY: `c` is a valid C string and `st` a valid out-pointer.
	if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
		return Err(std::io::Error::last_os_error().into());
	}
	let bytes = st.f_bavail as u64 * st.f_frsize as u64;
	Ok(((bytes >> 30) << 10).min(u32::MAX as u64) as u32)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn detects_something_plausible() {
		let m = detect(Path::new("/")).unwrap();
		assert!(m.cpu_millicores >= 1_000, "{m:?}");
		assert!(m.ram_mib >= 256, "{m:?}");
		assert!(m.disk_mib > 0, "{m:?}");
	}
}
