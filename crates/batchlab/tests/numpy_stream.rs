//! The `prompt_numpy` predictor draws what the original drew: numpy's legacy stream
//! after `np.random.seed(42)`, and the original's `predict_output_len` on it. The
//! reference numbers were printed by numpy 2 and by the original's own function (run
//! outside this repository); only the numbers are kept here.

use batchlab::config::Predictor;
use batchlab::rng::numpy::NumpyLegacy;
use batchlab::rng::SimRng;
use batchlab::workload::predictor::predict_all;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/original");

/// `[np.random.random_sample() for _ in range(20001)]` after `np.random.seed(42)`:
/// bit for bit (the sum of their bit patterns mod 2^64, and two of them).
#[test]
fn uniforms_equal_numpys_bit_for_bit() {
    let mut r = NumpyLegacy::new(42);
    let u: Vec<f64> = (0..20_001).map(|_| r.next_double()).collect();
    assert_eq!((u[0], u[20_000]), (0.3745401188473625, 0.7299983109899704));
    assert_eq!(u.iter().fold(0u64, |s, v| s.wrapping_add(v.to_bits())), 639_246_541_244_415_883);
}

/// `[np.random.lognormal(mean=0, sigma=0.1) for _ in range(20001)]` after
/// `np.random.seed(42)`, then one `random_sample()`: the stream stays in step with
/// numpy's (same polar rejections, same cached normals: the next uniform is numpy's),
/// and each lognormal is numpy's to within one unit in the last place. (Not always
/// bit for bit: numpy calls the platform's `log` and `exp` (glibc's, nearly correctly
/// rounded), the core calls `libm`'s, within 1 ulp of them; ~3 % of the normals and
/// ~5 % of the lognormals differ in their last bits, and a prediction only if that
/// moves its product across an integer: none of 1M did.)
#[test]
fn lognormals_follow_numpys_stream() {
    let mut r = NumpyLegacy::new(42);
    let values: Vec<f64> = (0..20_001).map(|_| r.lognormal(0.0, 0.1)).collect();
    assert_eq!(r.next_double(), 0.6942942781429461, "out of step with numpy's stream");
    let expected = [
        (0, 1.0509257215249366),
        (1, 0.9862687159528247),
        (2, 1.066912383147845),
        (3, 1.1645130137078703),
        (999, 1.0589292733576998),
        (10_000, 0.9344011155429381),
        (20_000, 1.0354422444373315),
    ];
    for (i, v) in expected {
        let ulps = (values[i].to_bits() as i64 - f64::to_bits(v) as i64).abs();
        assert!(ulps <= 1, "draw {i}: {} vs numpy's {v}", values[i]);
    }
    // math.fsum of numpy's values: ours differ from it by a few ulps in all.
    let sum: f64 = values.iter().sum();
    assert!((sum - 20_113.184669505128).abs() < 1e-9, "{sum}");
}

/// The original's predictions (seed 42) for the prompts of the first 2,000 rows of a
/// BurstGPT-format trace, failed requests included: each row takes one draw.
#[test]
fn predictions_equal_the_originals() {
    let text = std::fs::read_to_string(format!("{DATA}/numpy_predictions_seed42.csv")).unwrap();
    let (prompt, expected): (Vec<u32>, Vec<u32>) = text
        .lines()
        .skip(1)
        .map(|l| {
            let (p, q) = l.split_once(',').unwrap();
            (p.parse::<u32>().unwrap(), q.parse::<u32>().unwrap())
        })
        .unzip();
    assert_eq!(prompt.len(), 2_000);
    let ours = predict_all(Predictor::PromptNumpy, &prompt, &prompt, &mut SimRng::new(42), 42);
    let differ: Vec<usize> = (0..prompt.len()).filter(|&i| ours[i] != expected[i]).collect();
    assert!(differ.is_empty(), "{} differ, first at row {}", differ.len(), differ[0]);
}

/// How many of a long list of the original's predictions are equal: a file of lines
/// `prompt predicted` (seed 42) named by BATCHLAB_NUMPY_PREDICTIONS. Run with
/// `BATCHLAB_NUMPY_PREDICTIONS=FILE cargo test -p batchlab --release --test numpy_stream -- --ignored --nocapture`.
#[test]
#[ignore]
fn count_equal_predictions_in_a_long_file() {
    let path = std::env::var("BATCHLAB_NUMPY_PREDICTIONS").expect("BATCHLAB_NUMPY_PREDICTIONS=FILE");
    let text = std::fs::read_to_string(path).unwrap();
    let (prompt, expected): (Vec<u32>, Vec<u32>) = text
        .lines()
        .map(|l| {
            let (p, q) = l.split_once(' ').unwrap();
            (p.parse::<u32>().unwrap(), q.parse::<u32>().unwrap())
        })
        .unzip();
    let ours = predict_all(Predictor::PromptNumpy, &prompt, &prompt, &mut SimRng::new(42), 42);
    let differ: Vec<usize> = (0..prompt.len()).filter(|&i| ours[i] != expected[i]).collect();
    println!("{} of {} predictions equal the original's", prompt.len() - differ.len(), prompt.len());
    for &i in differ.iter().take(10) {
        println!("row {i}: prompt {} ours {} original {}", prompt[i], ours[i], expected[i]);
    }
}
