//! Where the model runs: the CPU, or, built with the `cuda` feature, the first NVIDIA GPU
//! (docs/gpu.md: how such an image would be built). WASM and the images built here use the CPU.
use candle_core::Device;

/// The device every tensor of a run lives on.
pub fn device() -> Result<Device, String> {
	#[cfg(feature = "cuda")]
	{
		Device::new_cuda(0).map_err(|e| format!("CUDA device 0: {e}"))
	}
	#[cfg(not(feature = "cuda"))]
	{
		Ok(Device::Cpu)
	}
}
