//! BatchLab's token pass on the GPU: the decode gaps of every request (~1e8 for a
//! 1M-request run) evaluated and bucketed by a WGSL compute shader through wgpu —
//! WebGPU in the browser, Vulkan / Metal / DX12 natively. Only the histogram and a few
//! counters come back.
//!
//! The model, the host part (segments, TTFT, request SLA) and the CPU reference are in
//! `batchlab::token`; this crate replaces only the CPU's decode loop, with the same f32
//! arithmetic and bucket comparisons, so `GpuTokenPass::run` returns exactly the
//! `TokenMetrics` that `batchlab::token::run_cpu` returns (tests/gpu_equals_cpu.rs).
//!
//! ```no_run
//! # fn demo(w: &batchlab::workload::Workload, s: &batchlab::engine::Schedule,
//! #         cfg: &batchlab::token::TokenModelConfig, slas: &batchlab::token::Slas) -> Result<(), String> {
//! let gpu = batchlab_gpu::GpuTokenPass::new()?; // Err when no adapter: use run_cpu
//! println!("GPU: {}", gpu.adapter_name());
//! let metrics = gpu.run(w, s, cfg, slas)?;
//! # Ok(()) }
//! ```

mod readback;
mod upload;

use batchlab::engine::Schedule;
use batchlab::token::histogram::{edges_f32_extended, edges_f64, BUCKETS};
use batchlab::token::{finish, walk, Constants, DecodeTotals, LogHistogram, Slas, TokenDevice, TokenMetrics, TokenModelConfig, TokenPass};
use batchlab::workload::Workload;
use wgpu::util::DeviceExt;

pub use upload::STEPS_PER_ITEM;

/// The core's one token-pass interface. Natively the pass blocks (ready at once, so
/// `batchlab::token::now` drives it); in the browser it awaits WebGPU's promises.
impl TokenPass for &GpuTokenPass {
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> batchlab::Result<(TokenMetrics, TokenDevice)> {
        #[cfg(not(target_arch = "wasm32"))]
        let metrics = pollster::block_on(self.metrics(w, s, cfg, slas))?;
        #[cfg(target_arch = "wasm32")]
        let metrics = self.metrics(w, s, cfg, slas).await?;
        Ok((metrics, TokenDevice { gpu: Some(self.adapter_name.clone()), gpu_error: None }))
    }
}

const WORKGROUP: u32 = 64;
/// Counters the shader keeps (see token.wgsl): violating gaps, max bits, min bits,
/// token-violating requests, requests meeting both SLAs, gaps evaluated.
const TOTALS: usize = 6;
const ITEM_BYTES: u64 = 16;

/// Uniform block of the shader (`Params` in token.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    kr: f32,
    thr: f32,
    zero: u32,
    n_items: u32,
    n_requests: u32,
    top: u32,
    pad: [u32; 2],
}

/// A GPU device ready to run token passes (pipelines compiled, bucket table uploaded).
pub struct GpuTokenPass {
    device: wgpu::Device,
    queue: wgpu::Queue,
    decode: wgpu::ComputePipeline,
    requests: wgpu::ComputePipeline,
    edges: wgpu::Buffer,
    adapter_name: String,
    backend: String,
    /// Work items per chunk (one dispatch each): the device's limits, or less if set.
    max_items_per_chunk: usize,
}

impl GpuTokenPass {
    /// Find an adapter, open a device with WebGPU's default limits, compile the shader.
    /// Err (one line) when there is no adapter or the device fails: fall back to the CPU.
    pub async fn new_async() -> Result<Self, String> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("no GPU adapter: {e}"))?;
        let info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("batchlab token pass"),
                required_limits: wgpu::Limits::default(),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("GPU adapter '{}' refused a device: {e}", info.name))?;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("token.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("token.wgsl").into()),
        });
        let pipeline = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let (decode, requests) = (pipeline("decode"), pipeline("requests"));
        let ext = edges_f32_extended(&edges_f64());
        let edges = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("bucket edges"),
            contents: bytemuck::cast_slice(&ext),
            usage: wgpu::BufferUsages::STORAGE,
        });
        if let Some(e) = scope.pop().await {
            return Err(format!("the token shader failed on '{}': {}", info.name, one_line(&e.to_string())));
        }
        let limits = device.limits();
        let by_dispatch = limits.max_compute_workgroups_per_dimension as u64 * WORKGROUP as u64;
        let by_binding = limits.max_storage_buffer_binding_size / ITEM_BYTES;
        Ok(GpuTokenPass {
            device,
            queue,
            decode,
            requests,
            edges,
            adapter_name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            max_items_per_chunk: by_dispatch.min(by_binding) as usize,
        })
    }

    /// Blocking constructor (native only; the browser uses `new_async`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new() -> Result<Self, String> {
        pollster::block_on(Self::new_async())
    }

    /// The adapter's name as the driver reports it ("llvmpipe (LLVM 19.1.7, 256 bits)", ...).
    pub fn adapter_name(&self) -> &str {
        &self.adapter_name
    }

    /// "Vulkan", "Metal", "Dx12", "BrowserWebGpu".
    pub fn backend(&self) -> &str {
        &self.backend
    }

    pub fn max_items_per_chunk(&self) -> usize {
        self.max_items_per_chunk
    }

    /// Cap the work items per chunk (each chunk is one upload, two dispatches and one
    /// readback); never above the device's limits. Tests force tiny chunks with it.
    pub fn set_max_items_per_chunk(&mut self, items: usize) {
        self.max_items_per_chunk = self.max_items_per_chunk.min(items.max(1));
    }

    /// How many chunks (upload + dispatches + readback) a run would take: the host-side
    /// packing alone, no GPU work.
    pub fn chunk_count(&self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<usize, String> {
        let consts = Constants::new(cfg, slas).map_err(|e| e.to_string())?;
        let mut up = upload::Upload::new(self.max_items_per_chunk);
        walk(w, s, cfg, slas, &consts, &mut up).map_err(|e| e.to_string())?;
        up.finish();
        Ok(up.chunks.len())
    }

    /// The token pass of one run (native, blocking).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run(&self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<TokenMetrics, String> {
        pollster::block_on(self.run_async(w, s, cfg, slas))
    }

    /// The token pass of one run: the host part as on the CPU, the decode gaps on the GPU.
    pub async fn run_async(&self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<TokenMetrics, String> {
        self.metrics(w, s, cfg, slas).await.map_err(|e| e.to_string())
    }

    /// Bad input is the core's error, exactly as on the CPU; a failure of the device is
    /// a token-pass error naming the adapter.
    async fn metrics(&self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> batchlab::Result<TokenMetrics> {
        let consts = Constants::new(cfg, slas)?;
        let mut up = upload::Upload::new(self.max_items_per_chunk);
        let host = walk(w, s, cfg, slas, &consts, &mut up)?;
        up.finish();
        let decode = self
            .decode(&consts, &up)
            .await
            .map_err(|e| batchlab::Error::token_pass(format!("the GPU ({}) failed: {e}", self.adapter_name)))?;
        Ok(finish(cfg, &consts, host, decode))
    }

    /// Run every chunk through the two shader passes and sum what comes back.
    async fn decode(&self, consts: &Constants, up: &upload::Upload) -> Result<DecodeTotals, String> {
        let mut totals = DecodeTotals { tbt: LogHistogram::default(), ..Default::default() };
        if up.chunks.is_empty() {
            return Ok(totals);
        }
        let (max_items, max_segs, max_requests) = up.largest_chunk();
        let storage = |label: &str, bytes: usize, extra: wgpu::BufferUsages| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.max(4) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | extra,
                mapped_at_creation: false,
            })
        };
        let items = storage("items", max_items * 16, wgpu::BufferUsages::empty());
        let segs = storage("segments", max_segs * 8, wgpu::BufferUsages::empty());
        let req_ok = storage("request ok", max_requests * 4, wgpu::BufferUsages::empty());
        let req_viol = storage("request violations", max_requests * 4, wgpu::BufferUsages::empty());
        let hist = storage("histogram", BUCKETS * 4, wgpu::BufferUsages::COPY_SRC);
        let counters = storage("totals", TOTALS * 4, wgpu::BufferUsages::COPY_SRC);
        let readback_bytes = ((BUCKETS + TOTALS) * 4) as u64;
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: readback_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let params = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: std::mem::size_of::<Params>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind = |pipeline: &wgpu::ComputePipeline, buffers: &[(u32, &wgpu::Buffer)]| {
            let entries: Vec<wgpu::BindGroupEntry> =
                buffers.iter().map(|&(binding, b)| wgpu::BindGroupEntry { binding, resource: b.as_entire_binding() }).collect();
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            })
        };
        let decode_group = bind(
            &self.decode,
            &[(0, &params), (1, &items), (2, &segs), (3, &self.edges), (4, &hist), (5, &counters), (6, &req_viol)],
        );
        let requests_group = bind(&self.requests, &[(0, &params), (5, &counters), (6, &req_viol), (7, &req_ok)]);

        let (mut min32, mut max32) = (f32::MAX, 0.0f32);
        for chunk in &up.chunks {
            let p = Params {
                kr: consts.kr32,
                thr: consts.thr32,
                zero: 0,
                n_items: chunk.items.len() as u32,
                n_requests: chunk.requests.len() as u32,
                top: (BUCKETS - 1) as u32,
                pad: [0; 2],
            };
            self.queue.write_buffer(&params, 0, bytemuck::bytes_of(&p));
            self.queue.write_buffer(&items, 0, bytemuck::cast_slice(&up.items[chunk.items.clone()]));
            self.queue.write_buffer(&segs, 0, bytemuck::cast_slice(&up.segs[chunk.segs.clone()]));
            self.queue.write_buffer(&req_ok, 0, bytemuck::cast_slice(&up.request_ok[chunk.requests.clone()]));
            let initial: [u32; TOTALS] = [0, 0, f32::MAX.to_bits(), 0, 0, 0];
            self.queue.write_buffer(&counters, 0, bytemuck::cast_slice(&initial));
            let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("token chunk") });
            enc.clear_buffer(&hist, 0, None);
            enc.clear_buffer(&req_viol, 0, None);
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("decode"), timestamp_writes: None });
                pass.set_pipeline(&self.decode);
                pass.set_bind_group(0, &decode_group, &[]);
                pass.dispatch_workgroups((chunk.items.len() as u32).div_ceil(WORKGROUP), 1, 1);
            }
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("requests"), timestamp_writes: None });
                pass.set_pipeline(&self.requests);
                pass.set_bind_group(0, &requests_group, &[]);
                pass.dispatch_workgroups((chunk.requests.len() as u32).div_ceil(WORKGROUP).max(1), 1, 1);
            }
            enc.copy_buffer_to_buffer(&hist, 0, &readback, 0, (BUCKETS * 4) as u64);
            enc.copy_buffer_to_buffer(&counters, 0, &readback, (BUCKETS * 4) as u64, (TOTALS * 4) as u64);
            self.queue.submit([enc.finish()]);
            let words = readback::read_u32(&self.device, &readback).await?;
            let (counts, t) = words.split_at(BUCKETS);
            if t[5] as u64 != chunk.gaps {
                return Err(format!(
                    "the GPU evaluated {} decode gaps of a chunk that has {} (adapter '{}')",
                    t[5], chunk.gaps, self.adapter_name
                ));
            }
            let counted: u64 = counts.iter().map(|&c| c as u64).sum();
            if counted != chunk.gaps {
                return Err(format!("the GPU histogram holds {counted} of {} decode gaps (adapter '{}')", chunk.gaps, self.adapter_name));
            }
            for (acc, &c) in totals.tbt.counts.iter_mut().zip(counts) {
                *acc += c as u64;
            }
            totals.tbt.total += chunk.gaps;
            totals.violating_gaps += t[0] as u64;
            max32 = max32.max(f32::from_bits(t[1]));
            min32 = min32.min(f32::from_bits(t[2]));
            totals.token_violating_requests += t[3] as u64;
            totals.good_requests += t[4] as u64;
        }
        if totals.tbt.total > 0 {
            totals.tbt.cover(min32 as f64, max32 as f64);
        }
        Ok(totals)
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
