//! The one formatter of numbers for people (the CLI's tables and the page's): the CLI and
//! the page show a run in the same words. Files never use it (`fmt_f64` does).
//!
//! Rules:
//! - NaN (undefined: no request, no gap) is "–" (an en dash), with no unit; infinity is
//!   "∞" ("-∞"), with no unit either.
//! - Numbers keep three significant digits, trailing zeros included ("1.50", "12.3",
//!   "123"); from 1000 the whole number ("152346": no digit of the integer part is
//!   hidden); below 0.001, and from where three digits read 1.00e6 (999500), in
//!   scientific notation ("1.23e-5", "1.52e9"); zero is "0".
//! - Durations (given in seconds) take the unit that keeps the number below the next one:
//!   ns, µs, ms below 1000, s and min below 60, else h ("5.74 ms", "41.8 min"). The unit
//!   is chosen after rounding, so 0.99996 s is "1.00 s", not "1000 ms".
//! - Fractions are percentages: "12.3 %", "100 %".
//! - Rates are a number and their unit: "3.25 req/s". Counts are whole numbers; flags
//!   "yes" / "no".
//!
//! Rounding is Rust's formatter's (correct, ties to even), the same natively and in wasm.

/// Undefined (NaN).
pub const UNDEFINED: &str = "–";

/// NaN and infinity in words, or None for a finite number.
fn not_finite(x: f64) -> Option<String> {
    if x.is_nan() {
        Some(UNDEFINED.into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "∞" } else { "-∞" }.into())
    } else {
        None
    }
}

/// A number with three significant digits (see the module's rules).
pub fn number(x: f64) -> String {
    if let Some(s) = not_finite(x) {
        return s;
    }
    if x == 0.0 {
        return "0".into();
    }
    // `{:.2e}` rounds to three significant digits and gives the exponent after rounding
    // (99.96 -> "1.00e2"), so the decimals below round at the same digit.
    let sci = format!("{x:.2e}");
    let exp: i32 = sci.split_once('e').and_then(|(_, e)| e.parse().ok()).unwrap_or(0);
    match exp {
        ..=-4 | 6.. => sci,
        3.. => format!("{x:.0}"),
        _ => format!("{x:.*}", (2 - exp) as usize),
    }
}

/// A duration given in seconds, in the unit that fits it (see the module's rules).
pub fn duration(seconds: f64) -> String {
    if let Some(s) = not_finite(seconds) {
        return s;
    }
    if seconds == 0.0 {
        return "0 s".into();
    }
    // (unit, its length in seconds, the rounded value at which the next unit takes over)
    const UNITS: [(&str, f64, f64); 6] =
        [("ns", 1e-9, 1e3), ("µs", 1e-6, 1e3), ("ms", 1e-3, 1e3), ("s", 1.0, 60.0), ("min", 60.0, 60.0), ("h", 3600.0, f64::INFINITY)];
    for (unit, length, next) in UNITS {
        let value = number(seconds / length);
        // The rounded value decides (59.996 s is "1.00 min"). Scientific values parse too.
        if value.parse::<f64>().is_ok_and(|v| v.abs() < next) {
            return format!("{value} {unit}");
        }
    }
    unreachable!("hours take every finite duration")
}

/// A fraction (0.25) as a percentage ("25.0 %").
pub fn percent(fraction: f64) -> String {
    match not_finite(fraction) {
        Some(s) => s,
        None => format!("{} %", number(fraction * 100.0)),
    }
}

/// A number and its unit ("3.25 req/s"); undefined and infinite values have no unit.
pub fn with_unit(x: f64, unit: &str) -> String {
    match not_finite(x) {
        Some(s) => s,
        None => format!("{} {unit}", number(x)),
    }
}

/// A flag for reading.
pub fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(1.5), "1.50");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(123.4), "123");
        assert_eq!(number(0.012345), "0.0123");
        assert_eq!(number(0.001), "0.00100");
        assert_eq!(number(-2.5), "-2.50");
        // Whole numbers from 1000 up; scientific below 0.001; zero plain.
        assert_eq!(number(999.4), "999");
        assert_eq!(number(152345.6), "152346");
        assert_eq!(number(999499.0), "999499");
        // The exponent is read after rounding to three digits: 999500 is 1.00e6.
        assert_eq!(number(999500.0), "1.00e6");
        assert_eq!(number(999999.6), "1.00e6");
        assert_eq!(number(1.5234e9), "1.52e9");
        assert_eq!(number(0.000999), "9.99e-4");
        assert_eq!(number(1.234e-7), "1.23e-7");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.0), "0");
    }

    #[test]
    fn rounding_up_to_a_new_digit_drops_a_decimal() {
        assert_eq!(number(9.996), "10.0");
        assert_eq!(number(99.96), "100");
        assert_eq!(number(999.6), "1000");
        assert_eq!(number(0.0009996), "0.00100");
        // Ties go to even, on the exact binary value: 0.125 is exact, 2.675 is 2.67499...
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(1.125), "1.12");
        assert_eq!(number(2.675), "2.67");
    }

    #[test]
    fn durations_take_the_unit_that_fits() {
        assert_eq!(duration(0.00574), "5.74 ms");
        assert_eq!(duration(2510.329767), "41.8 min");
        assert_eq!(duration(3e-9), "3.00 ns");
        assert_eq!(duration(12.5e-6), "12.5 µs");
        assert_eq!(duration(0.5), "500 ms");
        assert_eq!(duration(1.0), "1.00 s");
        assert_eq!(duration(59.94), "59.9 s");
        assert_eq!(duration(60.0), "1.00 min");
        assert_eq!(duration(3599.0), "1.00 h");
        assert_eq!(duration(5400.0), "1.50 h");
        assert_eq!(duration(1e7), "2778 h");
        assert_eq!(duration(1e10), "2.78e6 h");
        assert_eq!(duration(0.0), "0 s");
        assert_eq!(duration(-0.25), "-250 ms");
        assert_eq!(duration(1e-13), "1.00e-4 ns");
    }

    #[test]
    fn duration_units_change_after_rounding() {
        // 999.96 ms rounds to 1000 ms: one second instead.
        assert_eq!(duration(0.99996), "1.00 s");
        assert_eq!(duration(0.9994), "999 ms");
        assert_eq!(duration(0.00099996), "1.00 ms");
        assert_eq!(duration(59.996), "1.00 min");
        assert_eq!(duration(3599.9), "1.00 h");
        assert_eq!(duration(3569.0), "59.5 min");
    }

    #[test]
    fn undefined_and_infinite_values_have_no_unit() {
        for f in [duration, percent, number] {
            assert_eq!(f(f64::NAN), "–");
            assert_eq!(f(f64::INFINITY), "∞");
            assert_eq!(f(f64::NEG_INFINITY), "-∞");
        }
        assert_eq!(with_unit(f64::NAN, "req/s"), "–");
        assert_eq!(with_unit(f64::INFINITY, "req/s"), "∞");
    }

    #[test]
    fn percentages_rates_and_flags() {
        assert_eq!(percent(0.25), "25.0 %");
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(percent(0.12345), "12.3 %");
        assert_eq!(percent(0.99996), "100 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(1e-6), "1.00e-4 %");
        assert_eq!(with_unit(3.2468, "req/s"), "3.25 req/s");
        assert_eq!(with_unit(152345.6, "tokens/s"), "152346 tokens/s");
        assert_eq!((yes_no(true), yes_no(false)), ("yes".to_string(), "no".to_string()));
    }
}
