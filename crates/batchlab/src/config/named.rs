//! Closed sets of named values (scheduler, bin policy, ...): one spelling per value,
//! used by every format that names one — CSV and JSON reports, the CLI's flags, the
//! page's controls and its URL. `named_enum!` derives `Display`, `FromStr` and serde from
//! that one spelling, so no shell mirrors a core enum or re-spells its values.

use crate::error::{Error, Result};

/// A value of a closed set with one spelling per value.
pub trait Named: Copy + PartialEq + 'static {
    /// Every value, in the order shells list them.
    const ALL: &'static [Self];
    /// The configuration field holding these values (named in parse errors).
    const FIELD: &'static str;
    /// The one spelling of this value.
    fn name(self) -> &'static str;
    /// One sentence saying what the value does (help texts, tooltips).
    fn describe(self) -> &'static str;

    /// The value spelled `s`, or an error naming the field and every accepted spelling.
    fn parse(s: &str) -> Result<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == s).ok_or_else(|| {
            let expected: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
            Error::field(Self::FIELD, format!("unknown value '{s}' (expected one of: {})", expected.join(", ")))
        })
    }
}

/// `named_enum! { /// doc  pub enum T for "field" { /// doc  V = "spelling", ... } }`
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $ty:ident for $field:literal {
            $( #[doc = $doc:literal] $variant:ident = $name:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $( #[doc = $doc] $variant, )+
        }

        impl $crate::config::Named for $ty {
            const ALL: &'static [Self] = &[$($ty::$variant),+];
            const FIELD: &'static str = $field;
            fn name(self) -> &'static str {
                match self { $($ty::$variant => $name,)+ }
            }
            fn describe(self) -> &'static str {
                match self { $($ty::$variant => $doc.trim(),)+ }
            }
        }

        impl $ty {
            /// Every value (see [`Named::ALL`](crate::config::Named::ALL)).
            pub const ALL: &'static [Self] = <Self as $crate::config::Named>::ALL;
            /// The value's one spelling.
            pub fn name(self) -> &'static str {
                <Self as $crate::config::Named>::name(self)
            }
            /// The value spelled `s`, or an error naming the field.
            pub fn parse(s: &str) -> $crate::error::Result<Self> {
                <Self as $crate::config::Named>::parse(s)
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
                Self::parse(&s).map_err(|e| serde::de::Error::custom(e.message()))
            }
        }
    };
}
pub(crate) use named_enum;
