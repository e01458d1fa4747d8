//! How element and variable values are shown: 1-, 2-, 4- and 8-byte values are unsigned
//! little-endian integers, other sizes are lowercase hex strings of the bytes.

use crate::json::Json;

/// The value as an integer when it has 1, 2, 4 or 8 bytes.
pub fn as_integer(bytes: &[u8]) -> Option<u64> {
    if !matches!(bytes.len(), 1 | 2 | 4 | 8) {
        return None;
    }
    let mut le = [0u8; 8];
    le[..bytes.len()].copy_from_slice(bytes);
    Some(u64::from_le_bytes(le))
}

/// Lowercase hex, two digits per byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The JSON form of a value.
pub fn to_json(bytes: &[u8]) -> Json {
    match as_integer(bytes) {
        Some(n) => Json::U64(n),
        None => Json::Str(hex(bytes)),
    }
}

/// The text form of a value: the integer in decimal, or `0x` and the hex bytes.
pub fn to_text(bytes: &[u8]) -> String {
    match as_integer(bytes) {
        Some(n) => n.to_string(),
        None => format!("0x{}", hex(bytes)),
    }
}

/// All bytes are zero.
pub fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_sizes_are_little_endian() {
        assert_eq!(to_json(&[42]), Json::U64(42));
        assert_eq!(to_json(&[1, 2]), Json::U64(0x0201));
        assert_eq!(to_json(&[0xff; 4]), Json::U64(0xffff_ffff));
        assert_eq!(to_json(&[0xff; 8]), Json::U64(u64::MAX));
        assert_eq!(to_text(&5u64.to_le_bytes()), "5");
    }

    #[test]
    fn other_sizes_are_hex() {
        let triple: Vec<u8> = [5u32, 110, 7]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            to_json(&triple),
            Json::Str("050000006e00000007000000".into())
        );
        assert_eq!(to_text(&[0xab, 0, 1]), "0xab0001");
        assert_eq!(to_json(&[]), Json::Str(String::new()));
        assert!(is_zero(&[0, 0, 0]));
        assert!(!is_zero(&[0, 1]));
    }
}
