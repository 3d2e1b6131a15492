//! Recovery keys: 160 random bits shown once, in groups of four Crockford base-32 characters.

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::SlotSecret;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new recovery key such as `7K3M-Q9XD-…` (8 groups of 4 characters, 160 bits).
pub fn generate_recovery_key() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    OsRng.fill_bytes(bytes.as_mut());
    let mut out = String::with_capacity(39);
    let mut buffer: u64 = 0;
    let mut bits = 0;
    let mut written = 0;
    for byte in bytes.iter() {
        buffer = (buffer << 8) | u64::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            if written > 0 && written % 4 == 0 {
                out.push('-');
            }
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
            written += 1;
        }
    }
    buffer = 0;
    let _ = buffer;
    Zeroizing::new(out)
}

/// Turns what a person typed into the canonical key: case, spaces and dashes do not matter,
/// and the look-alikes I, L (one) and O (zero) are read as Crockford says.
pub fn normalise_recovery_key(typed: &str) -> SlotSecret {
    let mut canonical = String::with_capacity(39);
    let mut written = 0;
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            ' ' | '-' | '\t' => continue,
            other => other,
        };
        if written > 0 && written % 4 == 0 {
            canonical.push('-');
        }
        canonical.push(c);
        written += 1;
    }
    SlotSecret::new(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_key_has_eight_groups_of_four_and_160_bits() {
        let key = generate_recovery_key();
        let groups: Vec<&str> = key.split('-').collect();
        assert_eq!(groups.len(), 8);
        assert!(groups.iter().all(|group| group.len() == 4));
        assert!(key
            .chars()
            .all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_ne!(*generate_recovery_key(), *key);
    }

    #[test]
    fn typing_variations_normalise_to_the_same_key() {
        let key = generate_recovery_key();
        let sloppy = key
            .to_lowercase()
            .replace('-', " ")
            .replace('1', "l")
            .replace('0', "o");
        assert_eq!(normalise_recovery_key(&sloppy).as_str(), key.as_str());
    }
}
