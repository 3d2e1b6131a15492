//! Medical record numbers: 9 random digits and a Luhn check digit, made offline without a counter.

use rand::Rng;

/// A new MRN such as `4830172955`: the first digit is never 0, the last is the Luhn check digit.
pub fn generate() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut digits: Vec<u8> = Vec::with_capacity(10);
    digits.push(rng.gen_range(1..=9));
    for _ in 0..8 {
        digits.push(rng.gen_range(0..=9));
    }
    digits.push(luhn_check_digit(&digits));
    digits
        .iter()
        .map(|digit| char::from(b'0' + digit))
        .collect()
}

/// The Luhn check digit for nine payload digits.
pub fn check_digit(payload: &[u8]) -> u8 {
    luhn_check_digit(payload)
}

fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(index, digit)| {
            let digit = u32::from(*digit);
            if index % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    ((10 - (sum % 10)) % 10) as u8
}

/// True when `mrn` has ten digits and its check digit matches (catches one mistyped digit and
/// most swaps of neighbours).
pub fn is_valid(mrn: &str) -> bool {
    let mrn = normalise(mrn);
    if mrn.len() != 10 || !mrn.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u8> = mrn.bytes().map(|b| b - b'0').collect();
    luhn_check_digit(&digits[..9]) == digits[9]
}

/// An MRN as someone typed it, checked: at most `limits::MRN` characters of letters, digits, spaces and
/// dashes (an MRN of another system may hold letters); normalised.
pub(crate) fn parse_argument(text: &str) -> clinicdesk_error::Result<String> {
    let fits = text.chars().count() <= crate::limits::MRN.max
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    if !fits || normalise(text).is_empty() {
        return Err(clinicdesk_error::Error::invalid_field(
            "mrn",
            format!(
                "{:?} is not an MRN: an MRN has letters, digits and dashes, such as 4821-0937-15",
                crate::validation::visible(text)
            ),
        ));
    }
    Ok(normalise(text))
}

/// Drops spaces and dashes people type or read out.
pub fn normalise(mrn: &str) -> String {
    mrn.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_mrns_are_valid_and_one_changed_digit_is_caught() {
        for _ in 0..200 {
            let mrn = generate();
            assert!(is_valid(&mrn), "{mrn}");
            let mut bytes = mrn.clone().into_bytes();
            bytes[4] = if bytes[4] == b'9' { b'0' } else { bytes[4] + 1 };
            assert!(!is_valid(std::str::from_utf8(&bytes).unwrap()));
        }
        assert!(is_valid("79927398713"[1..].as_ref()) || !is_valid("9927398713"));
    }
}
