// BatchLab token pass: the decode gaps of every request, bucketed on the GPU.
//
// Mirrors batchlab::token (plan.rs `gap_f32`, cpu.rs): the same f32 formula, the same
// bucket table, the same comparisons, so the integer counts equal the CPU path's.
//
// Entry point `decode`: one invocation per work item = up to 256 consecutive decode
// steps of one request. It walks its steps, counts runs of equal buckets and adds each
// run to the global histogram with one atomic (gaps move slowly along a sequence, so
// a run is usually the whole item; the 0.1%-resolution histogram has ~30K buckets,
// beyond WebGPU's 16 KB of workgroup memory, hence no workgroup-local copy of it).
// Scalar totals go through workgroup atomics first, then one global atomic per group.
//
// Entry point `requests`: one invocation per request of the chunk: token-SLA verdict
// (any violating gap) combined with the host's request-SLA verdict.

struct Params {
    kr: f32,          // kappa / context_ref, as f32
    thr: f32,         // a gap violates the token SLA iff gap > thr
    zero: u32,        // always 0; hides the next operation from the optimizer (see gap())
    n_items: u32,
    n_requests: u32,
    top: u32,         // last bucket index (the overflow bucket)
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// (request index in the chunk, first step, last step, segment index in the chunk)
@group(0) @binding(1) var<storage, read> items: array<vec4<u32>>;
// (last step of the segment, bits of its f32 zero-context step cost)
@group(0) @binding(2) var<storage, read> segs: array<vec2<u32>>;
// Extended bucket table: bucket c is [edges[c], edges[c + 1]), top + 2 entries.
@group(0) @binding(3) var<storage, read> edges: array<f32>;
@group(0) @binding(4) var<storage, read_write> hist: array<atomic<u32>>;
// 0 violating gaps, 1 max gap bits, 2 min gap bits, 3 token-violating requests,
// 4 requests meeting both SLAs, 5 gaps evaluated
@group(0) @binding(5) var<storage, read_write> totals: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> req_viol: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read> req_ok: array<u32>;

var<workgroup> wg_viol: atomic<u32>;
var<workgroup> wg_max: atomic<u32>;
var<workgroup> wg_min: atomic<u32>;
var<workgroup> wg_gaps: atomic<u32>;
var<workgroup> wg_bad: atomic<u32>;
var<workgroup> wg_good: atomic<u32>;

const F32_MAX_BITS: u32 = 0x7f7fffffu;

// a * (1 + kr * j), each operation rounded on its own as in Rust: OR-ing the product's
// bits with a runtime zero stops the compiler fusing `kr * j + 1` into an fma.
fn gap(a: f32, j: u32) -> f32 {
    let t = params.kr * f32(j);
    let u = 1.0 + bitcast<f32>(bitcast<u32>(t) | params.zero);
    return a * u;
}

// The largest c in [0, top] with edges[c] <= g (edges[0] = -f32::MAX).
fn find_bucket(g: f32) -> u32 {
    var lo = 0u;
    var hi = params.top;
    while (lo < hi) {
        let mid = (lo + hi + 1u) / 2u;
        if (edges[mid] <= g) {
            lo = mid;
        } else {
            hi = mid - 1u;
        }
    }
    return lo;
}

@compute @workgroup_size(64)
fn decode(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    if (lid == 0u) {
        atomicStore(&wg_viol, 0u);
        atomicStore(&wg_max, 0u);
        atomicStore(&wg_min, F32_MAX_BITS);
        atomicStore(&wg_gaps, 0u);
    }
    workgroupBarrier();
    let idx = gid.x;
    if (idx < params.n_items) {
        let it = items[idx];
        var k = it.w;
        var seg = segs[k];
        var a = bitcast<f32>(seg.y);
        var c = find_bucket(gap(a, it.y));
        var below = edges[c];
        var above = edges[c + 1u];
        var run = 0u;
        var viol = 0u;
        var gmax = 0.0;
        var gmin = bitcast<f32>(F32_MAX_BITS);
        for (var j = it.y; j <= it.z; j = j + 1u) {
            if (j > seg.x) {
                // Segments are consecutive and never empty: the next one starts at j.
                k = k + 1u;
                seg = segs[k];
                a = bitcast<f32>(seg.y);
            }
            let g = gap(a, j);
            if (g < below || g >= above) {
                if (run > 0u) {
                    atomicAdd(&hist[c], run);
                }
                run = 0u;
                c = find_bucket(g);
                below = edges[c];
                above = edges[c + 1u];
            }
            run = run + 1u;
            viol = viol + select(0u, 1u, g > params.thr);
            gmax = max(gmax, g);
            gmin = min(gmin, g);
        }
        atomicAdd(&hist[c], run);
        if (viol > 0u) {
            atomicAdd(&req_viol[it.x], viol);
            atomicAdd(&wg_viol, viol);
        }
        atomicAdd(&wg_gaps, it.z - it.y + 1u);
        atomicMax(&wg_max, bitcast<u32>(gmax));
        atomicMin(&wg_min, bitcast<u32>(gmin));
    }
    workgroupBarrier();
    if (lid == 0u) {
        atomicAdd(&totals[0], atomicLoad(&wg_viol));
        atomicMax(&totals[1], atomicLoad(&wg_max));
        atomicMin(&totals[2], atomicLoad(&wg_min));
        atomicAdd(&totals[5], atomicLoad(&wg_gaps));
    }
}

@compute @workgroup_size(64)
fn requests(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    if (lid == 0u) {
        atomicStore(&wg_bad, 0u);
        atomicStore(&wg_good, 0u);
    }
    workgroupBarrier();
    let i = gid.x;
    if (i < params.n_requests) {
        if (atomicLoad(&req_viol[i]) > 0u) {
            atomicAdd(&wg_bad, 1u);
        } else if (req_ok[i] != 0u) {
            atomicAdd(&wg_good, 1u);
        }
    }
    workgroupBarrier();
    if (lid == 0u) {
        atomicAdd(&totals[3], atomicLoad(&wg_bad));
        atomicAdd(&totals[4], atomicLoad(&wg_good));
    }
}
