//! One way to give an enum its stable keys: the strings the API, the database and the logs use.
//!
//! [`keyed_enum!`] declares the enum together with its keys, so the list of variants, the
//! key of each and the way back from a key are written once. An unknown key is `None`, never a
//! fallback: whoever reads a stored key decides what an unknown one means.

/// Declares an enum whose variants each have a key, with `ALL`, `key()` and `from_key()`, and
/// serde and `Display` through the key (so JSON and storage can never spell it differently).
/// The enum is `Copy`, comparable and ordered by declaration.
///
/// ```ignore
/// keyed_enum! {
///     pub enum Colour { Red = "red", DarkBlue = "dark_blue" }
/// }
/// ```
/// What every keyed enum offers, for code generic over them (a set of keys in a column, the
/// document's list of values). [`keyed_enum!`] implements it.
pub trait Keyed: Copy + Ord + std::fmt::Debug + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    fn key(self) -> &'static str;
    fn from_key(key: &str) -> Option<Self>;
}

macro_rules! keyed_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $key:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable key of this value.
            pub const fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// The value with this key, `None` for any other text.
            pub fn from_key(key: &str) -> Option<Self> {
                match key { $($key => Some($name::$variant),)+ _ => None }
            }
        }

        impl $crate::domain::keyed::Keyed for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn key(self) -> &'static str {
                $name::key(self)
            }
            fn from_key(key: &str) -> Option<Self> {
                $name::from_key(key)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.key())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.key())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let key = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::from_key(&key).ok_or_else(|| {
                    let keys: Vec<&str> = $name::ALL.iter().map(|v| v.key()).collect();
                    serde::de::Error::custom(format!("unknown value {key:?}, expected one of {}", keys.join(", ")))
                })
            }
        }
    };
}

pub(crate) use keyed_enum;

#[cfg(test)]
mod tests {
    keyed_enum! {
        enum Colour { Red = "red", DarkBlue = "dark_blue" }
    }

    #[test]
    fn keys_go_both_ways_and_nothing_else_parses() {
        for colour in Colour::ALL {
            assert_eq!(Colour::from_key(colour.key()), Some(*colour));
        }
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        assert_eq!(Colour::from_key("Red"), None);
        assert_eq!(Colour::from_key(""), None);
    }

    #[test]
    fn serde_speaks_the_key() {
        assert_eq!(serde_json::to_string(&Colour::DarkBlue).unwrap(), r#""dark_blue""#);
        assert_eq!(serde_json::from_str::<Colour>(r#""red""#).unwrap(), Colour::Red);
        let refused = serde_json::from_str::<Colour>(r#""Red""#).unwrap_err().to_string();
        assert!(refused.contains("expected one of red, dark_blue"), "{refused}");
    }
}
