//! Reading a mapped buffer back, the same way natively and on WebGPU: `map_async` with
//! a callback that completes a one-shot future. Natively the device is polled until the
//! submission is done (the callback has run by then); in the browser the JS event loop
//! runs it and wakes the future.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

type Slot = Arc<Mutex<(Option<Result<(), String>>, Option<Waker>)>>;

struct Mapped(Slot);

impl Future for Mapped {
    type Output = Result<(), String>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match slot.0.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The whole of `buffer` (MAP_READ) as u32 words, after the work submitted so far.
pub async fn read_u32(device: &wgpu::Device, buffer: &wgpu::Buffer) -> Result<Vec<u32>, String> {
    let slot: Slot = Arc::new(Mutex::new((None, None)));
    let done = slot.clone();
    buffer.map_async(wgpu::MapMode::Read, .., move |r| {
        let mut s = done.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = Some(r.map_err(|e| format!("reading the GPU's results failed: {e}")));
        if let Some(w) = s.1.take() {
            w.wake();
        }
    });
    #[cfg(not(target_arch = "wasm32"))]
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| format!("the GPU did not finish: {e}"))?;
    #[cfg(target_arch = "wasm32")]
    let _ = device;
    Mapped(slot).await?;
    let words = {
        let view = buffer.get_mapped_range(..).map_err(|e| format!("reading the GPU's results failed: {e}"))?;
        bytemuck::pod_collect_to_vec::<u8, u32>(&view)
    };
    buffer.unmap();
    Ok(words)
}
