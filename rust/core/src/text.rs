// SPDX-License-Identifier: GPL-2.0
//! The `key=value` text format of Login and Text PDU data segments
//! (RFC 7143 §6.1, value types per key in §13).
//!
//! A data segment is a run of `key=value` strings, each ended by a NUL byte.
//! Parsing borrows from the segment ([`Pairs`]); writing goes into a buffer
//! the caller owns ([`TextWriter`]); a text split across PDUs with the C bit
//! is glued back together in a [`TextAssembler`] whose capacity is a const
//! generic, so the caller decides where those bytes live (a session struct,
//! never the stack).

/// Longest key name (RFC 7143 §6.1: "not exceed 63 bytes").
pub const MAX_KEY_LEN: usize = 63;

/// Longest value of an ordinary key, not counting the NUL (RFC 7143 §6.1).
pub const MAX_VALUE_LEN: usize = 255;

/// Longest encoded value the parser accepts at all: RFC 7143 §6.1 requires
/// 8192 bytes of text per negotiation round, and only the CHAP binary values
/// (§12.1.3) are allowed past [`MAX_VALUE_LEN`].
pub const MAX_LONG_VALUE_LEN: usize = 8192;

/// Longest decoded binary value CHAP_C may carry (RFC 7143 §12.1.3).
pub const MAX_BINARY_LEN: usize = 1024;

/// What is wrong with a text segment or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// A string had no `=` between key and value.
    MissingEquals,
    /// The key was empty.
    EmptyKey,
    /// The key was longer than [`MAX_KEY_LEN`].
    KeyTooLong,
    /// The key held a byte outside `a-zA-Z0-9.-+@_#` (RFC 7143 §6.1).
    BadKeyChar,
    /// The value was longer than its key allows.
    ValueTooLong,
    /// The last string of a final segment had no NUL terminator.
    Unterminated,
    /// A numeric value was empty, malformed or did not fit in 64 bits.
    BadNumber,
    /// A boolean value was neither `Yes` nor `No`.
    BadBoolean,
    /// A binary value lacked the `0x`/`0b` prefix or held a bad digit.
    BadBinary,
    /// The caller's output buffer is too small.
    BufferFull,
    /// A value to write contains a NUL byte, which would end it early.
    NulInValue,
}

/// Longest value `key` may carry: the CHAP challenge and response are the
/// only keys RFC 7143 lets past 255 bytes (§12.1.3).
pub fn value_limit(key: &[u8]) -> usize {
    match key {
        b"CHAP_C" | b"CHAP_R" => MAX_LONG_VALUE_LEN,
        _ => MAX_VALUE_LEN,
    }
}

fn key_char_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'@' | b'_' | b'#')
}

/// Checks key syntax and length (RFC 7143 §6.1).
pub fn check_key(key: &[u8]) -> Result<(), TextError> {
    if key.is_empty() {
        return Err(TextError::EmptyKey);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(TextError::KeyTooLong);
    }
    if !key.iter().all(|&c| key_char_ok(c)) {
        return Err(TextError::BadKeyChar);
    }
    Ok(())
}

/// One `key=value` string, borrowed from a data segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<'a> {
    /// The key name, already checked by [`check_key`].
    pub key: &'a [u8],
    /// The raw value, without its NUL; may be empty.
    pub value: &'a [u8],
}

impl<'a> Pair<'a> {
    /// Splits one string (without its NUL) at the first `=` and checks it.
    pub fn parse(s: &'a [u8]) -> Result<Self, TextError> {
        let eq = s
            .iter()
            .position(|&c| c == b'=')
            .ok_or(TextError::MissingEquals)?;
        let (key, rest) = s.split_at(eq);
        let value = rest.get(1..).unwrap_or(&[]);
        check_key(key)?;
        if value.len() > value_limit(key) {
            return Err(TextError::ValueTooLong);
        }
        Ok(Pair { key, value })
    }

    /// The comma-separated values of a list-valued key.
    pub fn values(&self) -> Values<'a> {
        Values::new(self.value)
    }
}

/// Iterator over the `key=value` strings of a complete text (one PDU
/// without the C bit, or a reassembled [`TextAssembler`] content).
///
/// Empty strings (NUL padding some targets add) are skipped. After the
/// first error the iterator ends.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    rest: &'a [u8],
}

impl<'a> Pairs<'a> {
    /// Iterates over `text`.
    pub fn new(text: &'a [u8]) -> Self {
        Pairs { rest: text }
    }

    /// Bytes not yet consumed; the unread part is the last `rest_len()`
    /// bytes of the text.
    pub fn rest_len(&self) -> usize {
        self.rest.len()
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<Pair<'a>, TextError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let Some(nul) = self.rest.iter().position(|&c| c == 0) else {
                self.rest = &[];
                return Some(Err(TextError::Unterminated));
            };
            let (s, tail) = self.rest.split_at(nul);
            self.rest = tail.get(1..).unwrap_or(&[]);
            if s.is_empty() {
                continue;
            }
            let r = Pair::parse(s);
            if r.is_err() {
                self.rest = &[];
            }
            return Some(r);
        }
    }
}

/// Iterator over the comma-separated values of a list (RFC 7143 §6.1,
/// list-of-values). A value with no comma yields itself once.
#[derive(Debug, Clone)]
pub struct Values<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Values<'a> {
    /// Iterates over the items of `value`.
    pub fn new(value: &'a [u8]) -> Self {
        Values { rest: Some(value) }
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match rest.iter().position(|&c| c == b',') {
            Some(i) => {
                let (item, tail) = rest.split_at(i);
                self.rest = Some(tail.get(1..).unwrap_or(&[]));
                Some(item)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Parses a boolean value (`Yes` / `No`, RFC 7143 §6.1).
pub fn parse_bool(v: &[u8]) -> Result<bool, TextError> {
    match v {
        b"Yes" => Ok(true),
        b"No" => Ok(false),
        _ => Err(TextError::BadBoolean),
    }
}

/// The wire form of a boolean.
pub const fn bool_str(b: bool) -> &'static [u8] {
    if b {
        b"Yes"
    } else {
        b"No"
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn b64_digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

const B64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX_ALPHABET: &[u8; 16] = b"0123456789abcdef";

/// Parses a numerical value: decimal, `0x` hex or `0b` base64 (RFC 7143
/// §6.1, numerical-value up to 2^64 - 1).
pub fn parse_number(v: &[u8]) -> Result<u64, TextError> {
    if v.len() >= 2 && decode_binary_prefix(v).is_some() {
        // Room for leading zero bytes: "0x0000000000000001" is still 1.
        let mut tmp = [0u8; 16];
        let n = decode_binary(v, &mut tmp).map_err(|_| TextError::BadNumber)?;
        let digits = tmp.get(..n).unwrap_or(&[]);
        let skip = digits.iter().take_while(|&&b| b == 0).count();
        let sig = digits.get(skip..).unwrap_or(&[]);
        if sig.len() > 8 {
            return Err(TextError::BadNumber);
        }
        return Ok(sig.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)));
    }
    if v.is_empty() {
        return Err(TextError::BadNumber);
    }
    let mut n: u64 = 0;
    for &c in v {
        if !c.is_ascii_digit() {
            return Err(TextError::BadNumber);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
            .ok_or(TextError::BadNumber)?;
    }
    Ok(n)
}

fn decode_binary_prefix(v: &[u8]) -> Option<BinaryEncoding> {
    let p = v.get(..2)?;
    if p.eq_ignore_ascii_case(b"0x") {
        Some(BinaryEncoding::Hex)
    } else if p.eq_ignore_ascii_case(b"0b") {
        Some(BinaryEncoding::Base64)
    } else {
        None
    }
}

/// Decodes a binary value (`0x` hex or `0b` base64, RFC 7143 §6.1) into
/// `out`, returning the number of bytes written. An odd number of hex
/// digits is read with an implied leading zero; base64 padding is optional.
pub fn decode_binary(v: &[u8], out: &mut [u8]) -> Result<usize, TextError> {
    let mut written = 0usize;
    let mut full = false;
    let total = decode_binary_with(v, |piece| {
        match written
            .checked_add(piece.len())
            .and_then(|end| out.get_mut(written..end))
        {
            Some(dst) => {
                dst.copy_from_slice(piece);
                written += piece.len();
            }
            None => full = true,
        }
    })?;
    if full {
        Err(TextError::BufferFull)
    } else {
        Ok(total)
    }
}

/// Size of the pieces [`decode_binary_with`] hands out.
pub const DECODE_CHUNK: usize = 64;

/// Decodes a binary value like [`decode_binary`] but hands the bytes to
/// `sink` in pieces of at most [`DECODE_CHUNK`], so a 1024-byte CHAP
/// challenge can be hashed without a buffer of that size. Returns the total
/// decoded length. On error `sink` may already have seen a prefix.
pub fn decode_binary_with(v: &[u8], mut sink: impl FnMut(&[u8])) -> Result<usize, TextError> {
    let enc = decode_binary_prefix(v).ok_or(TextError::BadBinary)?;
    let digits = v.get(2..).unwrap_or(&[]);
    if digits.is_empty() {
        return Err(TextError::BadBinary);
    }
    type DigitFn = fn(u8) -> Option<u8>;
    let (body, width, mut bits, digit): (&[u8], u32, u32, DigitFn) = match enc {
        // An odd digit count starts with an implied zero nibble.
        BinaryEncoding::Hex => (digits, 4, 4 * (digits.len() % 2) as u32, hex_digit),
        BinaryEncoding::Base64 => {
            let unpadded = digits.len() - digits.iter().rev().take_while(|&&c| c == b'=').count();
            let pad = digits.len() - unpadded;
            if pad > 2 || (pad > 0 && digits.len() % 4 != 0) {
                return Err(TextError::BadBinary);
            }
            let body = digits.get(..unpadded).unwrap_or(&[]);
            if body.len() % 4 == 1 {
                return Err(TextError::BadBinary);
            }
            (body, 6, 0, b64_digit)
        }
    };
    let mut chunk = [0u8; DECODE_CHUNK];
    let mut n = 0usize;
    let mut total = 0usize;
    let mut acc: u32 = 0;
    for &c in body {
        let d = digit(c).ok_or(TextError::BadBinary)?;
        acc = (acc << width) | u32::from(d);
        bits += width;
        if bits >= 8 {
            bits -= 8;
            if let Some(o) = chunk.get_mut(n) {
                *o = (acc >> bits) as u8;
            }
            n += 1;
            acc &= (1 << bits) - 1;
            if n == DECODE_CHUNK {
                sink(&chunk);
                total += n;
                n = 0;
            }
        }
    }
    if n > 0 {
        sink(chunk.get(..n).unwrap_or(&[]));
        total += n;
    }
    Ok(total)
}

/// Number of bytes `0x` hex encoding of `n` bytes takes.
pub const fn hex_len(n: usize) -> usize {
    2 + 2 * n
}

/// Number of bytes padded `0b` base64 encoding of `n` bytes takes.
pub const fn base64_len(n: usize) -> usize {
    2 + n.div_ceil(3) * 4
}

/// How a binary value is written (RFC 7143 §6.1 allows either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryEncoding {
    /// `0x` followed by lowercase hex digits.
    Hex,
    /// `0b` followed by padded base64.
    Base64,
}

/// Encodes `bytes` as a binary value into `out`, returning its length.
pub fn encode_binary(
    bytes: &[u8],
    enc: BinaryEncoding,
    out: &mut [u8],
) -> Result<usize, TextError> {
    match enc {
        BinaryEncoding::Hex => {
            let dst = out
                .get_mut(..hex_len(bytes.len()))
                .ok_or(TextError::BufferFull)?;
            let (prefix, body) = dst.split_at_mut(2);
            prefix.copy_from_slice(b"0x");
            // Index, not zip: see hash/block.rs.
            for (i, pair) in body.chunks_exact_mut(2).enumerate() {
                if let (Some(&b), [hi, lo]) = (bytes.get(i), pair) {
                    *hi = HEX_ALPHABET[usize::from(b >> 4)];
                    *lo = HEX_ALPHABET[usize::from(b & 15)];
                }
            }
            Ok(dst.len())
        }
        BinaryEncoding::Base64 => {
            let dst = out
                .get_mut(..base64_len(bytes.len()))
                .ok_or(TextError::BufferFull)?;
            let (prefix, body) = dst.split_at_mut(2);
            prefix.copy_from_slice(b"0b");
            // Index, not zip: see hash/block.rs.
            for (i, quad) in body.chunks_exact_mut(4).enumerate() {
                let chunk = bytes.get(i.saturating_mul(3)..).unwrap_or(&[]);
                let chunk = chunk.get(..3).unwrap_or(chunk);
                let b0 = chunk.first().copied().unwrap_or(0);
                let b1 = chunk.get(1).copied().unwrap_or(0);
                let b2 = chunk.get(2).copied().unwrap_or(0);
                let v = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
                for (k, o) in quad.iter_mut().enumerate() {
                    *o = if k <= chunk.len() {
                        B64_ALPHABET[((v >> (18 - 6 * k)) & 63) as usize]
                    } else {
                        b'='
                    };
                }
            }
            Ok(dst.len())
        }
    }
}

/// Formats `n` in decimal into `buf`, returning the digits.
pub fn format_u64(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or(&[])
}

/// Appends `key=value\0` strings to a caller-provided buffer.
///
/// A failed push leaves the buffer as it was, so the caller can flush what
/// fits and retry the key in the next PDU.
#[derive(Debug)]
pub struct TextWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> TextWriter<'a> {
    /// Starts writing at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        TextWriter { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Appends `key=` followed by the concatenation of `parts` and a NUL.
    pub fn push_parts(&mut self, key: &[u8], parts: &[&[u8]]) -> Result<(), TextError> {
        check_key(key)?;
        let vlen = parts.iter().fold(0usize, |a, p| a.saturating_add(p.len()));
        if vlen > value_limit(key) {
            return Err(TextError::ValueTooLong);
        }
        if parts.iter().flat_map(|p| p.iter()).any(|&c| c == 0) {
            return Err(TextError::NulInValue);
        }
        let total = key.len() + 1 + vlen + 1;
        let end = self.len.checked_add(total).ok_or(TextError::BufferFull)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(TextError::BufferFull)?;
        let (k, rest) = dst.split_at_mut(key.len());
        k.copy_from_slice(key);
        let (eq, mut rest) = rest.split_at_mut(1);
        eq.copy_from_slice(b"=");
        for p in parts {
            let (d, r) = rest.split_at_mut(p.len());
            d.copy_from_slice(p);
            rest = r;
        }
        if let Some(nul) = rest.first_mut() {
            *nul = 0;
        }
        self.len = end;
        Ok(())
    }

    /// Appends `key=value\0`.
    pub fn push(&mut self, key: &[u8], value: &[u8]) -> Result<(), TextError> {
        self.push_parts(key, &[value])
    }

    /// Appends a decimal numerical value.
    pub fn push_number(&mut self, key: &[u8], n: u64) -> Result<(), TextError> {
        let mut b = [0u8; 20];
        let digits = format_u64(n, &mut b);
        self.push(key, digits)
    }

    /// Appends a boolean value.
    pub fn push_bool(&mut self, key: &[u8], v: bool) -> Result<(), TextError> {
        self.push(key, bool_str(v))
    }

    /// Appends a binary value, hex or base64 encoded in place.
    pub fn push_binary(
        &mut self,
        key: &[u8],
        bytes: &[u8],
        enc: BinaryEncoding,
    ) -> Result<(), TextError> {
        check_key(key)?;
        let vlen = match enc {
            BinaryEncoding::Hex => hex_len(bytes.len()),
            BinaryEncoding::Base64 => base64_len(bytes.len()),
        };
        if vlen > value_limit(key) {
            return Err(TextError::ValueTooLong);
        }
        let start = self.len;
        let vstart = start
            .checked_add(key.len() + 1)
            .ok_or(TextError::BufferFull)?;
        let end = vstart.checked_add(vlen + 1).ok_or(TextError::BufferFull)?;
        let dst = self.buf.get_mut(start..end).ok_or(TextError::BufferFull)?;
        let (k, rest) = dst.split_at_mut(key.len());
        k.copy_from_slice(key);
        let (eq, rest) = rest.split_at_mut(1);
        eq.copy_from_slice(b"=");
        let (val, nul) = rest.split_at_mut(vlen);
        encode_binary(bytes, enc, val)?;
        nul.copy_from_slice(&[0]);
        self.len = end;
        Ok(())
    }
}

/// Reassembles a text that arrives in several PDUs with the C (continue)
/// bit (RFC 7143 §11.10-§11.13), where one `key=value` may straddle
/// PDUs. `N` bounds the whole text; 8192 is the minimum RFC 7143 §6.1 asks
/// a negotiation to support, SendTargets answers may need more.
#[derive(Debug, Clone)]
pub struct TextAssembler<const N: usize> {
    buf: [u8; N],
    len: usize,
    complete: bool,
}

impl<const N: usize> Default for TextAssembler<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TextAssembler<N> {
    /// An empty assembler.
    pub const fn new() -> Self {
        TextAssembler {
            buf: [0; N],
            len: 0,
            complete: false,
        }
    }

    /// Forgets any text, ready for a new exchange.
    pub fn reset(&mut self) {
        self.len = 0;
        self.complete = false;
    }

    /// Adds one PDU's data segment. `continues` is the PDU's C bit. Returns
    /// `true` once the text is complete (C = 0); a segment arriving after
    /// completion starts a new text.
    pub fn push(&mut self, data: &[u8], continues: bool) -> Result<bool, TextError> {
        if self.complete {
            self.reset();
        }
        let end = self
            .len
            .checked_add(data.len())
            .ok_or(TextError::BufferFull)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(TextError::BufferFull)?;
        dst.copy_from_slice(data);
        self.len = end;
        self.complete = !continues;
        Ok(self.complete)
    }

    /// Whether the last segment pushed had C = 0.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The text gathered so far.
    pub fn text(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The pairs of a complete text (an unfinished last string reports
    /// [`TextError::Unterminated`]).
    pub fn pairs(&self) -> Pairs<'_> {
        Pairs::new(self.text())
    }
}

/// Storage that reassembles C-bit text: a [`TextAssembler`] owned in place,
/// or borrowed from wherever the caller keeps it (so a state machine that
/// holds one stays small).
pub trait TextBuffer {
    /// The assembler itself.
    fn assembler(&mut self) -> &mut dyn Reassemble;
    /// Read-only view of the assembler.
    fn assembler_ref(&self) -> &dyn Reassemble;
}

/// The operations a state machine needs from a [`TextAssembler`] of any
/// capacity.
pub trait Reassemble {
    /// See [`TextAssembler::push`].
    fn push(&mut self, data: &[u8], continues: bool) -> Result<bool, TextError>;
    /// See [`TextAssembler::text`].
    fn text(&self) -> &[u8];
    /// See [`TextAssembler::reset`].
    fn reset(&mut self);
}

impl<const N: usize> Reassemble for TextAssembler<N> {
    fn push(&mut self, data: &[u8], continues: bool) -> Result<bool, TextError> {
        TextAssembler::push(self, data, continues)
    }
    fn text(&self) -> &[u8] {
        TextAssembler::text(self)
    }
    fn reset(&mut self) {
        TextAssembler::reset(self)
    }
}

impl<const N: usize> TextBuffer for TextAssembler<N> {
    fn assembler(&mut self) -> &mut dyn Reassemble {
        self
    }
    fn assembler_ref(&self) -> &dyn Reassemble {
        self
    }
}

impl<const N: usize> TextBuffer for &mut TextAssembler<N> {
    fn assembler(&mut self) -> &mut dyn Reassemble {
        &mut **self
    }
    fn assembler_ref(&self) -> &dyn Reassemble {
        &**self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_style_login_text() {
        let seg = b"InitiatorName=iqn.1998-01.com.example:host\0SessionType=Normal\0MaxBurstLength=262144\0";
        let mut it = Pairs::new(seg);
        assert_eq!(
            it.next(),
            Some(Ok(Pair {
                key: b"InitiatorName",
                value: b"iqn.1998-01.com.example:host"
            }))
        );
        let p = it.next().unwrap().unwrap();
        assert_eq!((p.key, p.value), (&b"SessionType"[..], &b"Normal"[..]));
        let p = it.next().unwrap().unwrap();
        assert_eq!(parse_number(p.value), Ok(262_144));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn rejects_malformed_strings() {
        assert_eq!(
            Pairs::new(b"NoEquals\0").next(),
            Some(Err(TextError::MissingEquals))
        );
        assert_eq!(Pairs::new(b"=x\0").next(), Some(Err(TextError::EmptyKey)));
        assert_eq!(
            Pairs::new(b"Bad Key=x\0").next(),
            Some(Err(TextError::BadKeyChar))
        );
        assert_eq!(
            Pairs::new(b"Key=unterminated").next(),
            Some(Err(TextError::Unterminated))
        );
        let mut long = [b'K'; 70];
        long[64] = b'=';
        long[69] = 0;
        assert_eq!(Pairs::new(&long).next(), Some(Err(TextError::KeyTooLong)));
        let mut v = [b'v'; 300];
        v[..2].copy_from_slice(b"A=");
        v[299] = 0;
        assert_eq!(Pairs::new(&v).next(), Some(Err(TextError::ValueTooLong)));
        // CHAP_C may be long.
        let mut c = [b'0'; 2000];
        c[..9].copy_from_slice(b"CHAP_C=0x");
        c[1999] = 0;
        assert!(Pairs::new(&c).next().unwrap().is_ok());
    }

    #[test]
    fn skips_nul_padding_and_keeps_empty_values() {
        let pairs: [_; 2] = {
            let mut it = Pairs::new(b"\0A=\0\0B=1\0\0\0");
            [it.next(), it.next()]
        };
        assert_eq!(
            pairs[0],
            Some(Ok(Pair {
                key: b"A",
                value: b""
            }))
        );
        assert_eq!(
            pairs[1],
            Some(Ok(Pair {
                key: b"B",
                value: b"1"
            }))
        );
    }

    #[test]
    fn list_values() {
        let mut v = Values::new(b"CRC32C,None");
        assert_eq!(v.next(), Some(&b"CRC32C"[..]));
        assert_eq!(v.next(), Some(&b"None"[..]));
        assert_eq!(v.next(), None);
        let mut single = Values::new(b"None");
        assert_eq!(single.next(), Some(&b"None"[..]));
        assert_eq!(single.next(), None);
    }

    #[test]
    fn numbers_in_all_encodings() {
        assert_eq!(parse_number(b"0"), Ok(0));
        assert_eq!(parse_number(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_number(b"18446744073709551616"),
            Err(TextError::BadNumber)
        );
        assert_eq!(parse_number(b"0x10"), Ok(16));
        assert_eq!(parse_number(b"0XfF"), Ok(255));
        assert_eq!(parse_number(b"0x00000000000000000001"), Ok(1));
        assert_eq!(
            parse_number(b"0x1ffffffffffffffff"),
            Err(TextError::BadNumber)
        );
        // base64 "AQA=" is 0x01 0x00.
        assert_eq!(parse_number(b"0bAQA="), Ok(256));
        assert_eq!(parse_number(b""), Err(TextError::BadNumber));
        assert_eq!(parse_number(b"12a"), Err(TextError::BadNumber));
        assert_eq!(parse_number(b"0x"), Err(TextError::BadNumber));
        assert_eq!(parse_number(b"-1"), Err(TextError::BadNumber));
    }

    #[test]
    fn binary_round_trips_and_known_encodings() {
        let mut out = [0u8; 64];
        let n = encode_binary(b"foobar", BinaryEncoding::Base64, &mut out).unwrap();
        assert_eq!(&out[..n], b"0bZm9vYmFy");
        let n = encode_binary(b"fo", BinaryEncoding::Base64, &mut out).unwrap();
        assert_eq!(&out[..n], b"0bZm8=");
        let n = encode_binary(b"f", BinaryEncoding::Base64, &mut out).unwrap();
        assert_eq!(&out[..n], b"0bZg==");
        let n = encode_binary(&[0xde, 0xad, 0x01], BinaryEncoding::Hex, &mut out).unwrap();
        assert_eq!(&out[..n], b"0xdead01");
        let mut dec = [0u8; 8];
        assert_eq!(decode_binary(b"0bZm8=", &mut dec), Ok(2));
        assert_eq!(&dec[..2], b"fo");
        assert_eq!(decode_binary(b"0bZm8", &mut dec), Ok(2));
        assert_eq!(decode_binary(b"0xABC", &mut dec), Ok(2));
        assert_eq!(&dec[..2], &[0x0a, 0xbc]);
        assert_eq!(decode_binary(b"0xzz", &mut dec), Err(TextError::BadBinary));
        assert_eq!(decode_binary(b"0bZ", &mut dec), Err(TextError::BadBinary));
        assert_eq!(
            decode_binary(b"0bZg===", &mut dec),
            Err(TextError::BadBinary)
        );
        assert_eq!(decode_binary(b"1234", &mut dec), Err(TextError::BadBinary));
        assert_eq!(
            decode_binary(b"0x112233445566778899", &mut dec),
            Err(TextError::BufferFull)
        );
    }

    #[test]
    fn streaming_decode_hands_out_chunks() {
        let mut hex = [b'a'; 2 + 2 * 150];
        hex[..2].copy_from_slice(b"0x");
        let mut pieces = 0;
        let mut bytes = 0;
        let total = decode_binary_with(&hex, |p| {
            pieces += 1;
            bytes += p.len();
            assert!(p.iter().all(|&b| b == 0xaa));
        })
        .unwrap();
        assert_eq!((total, bytes, pieces), (150, 150, 3));
    }

    #[test]
    fn writer_builds_wire_text_and_refuses_overflow() {
        let mut buf = [0u8; 64];
        let mut w = TextWriter::new(&mut buf);
        w.push(b"SessionType", b"Normal").unwrap();
        w.push_number(b"MaxBurstLength", 262_144).unwrap();
        w.push_bool(b"ImmediateData", false).unwrap();
        assert_eq!(
            w.written(),
            b"SessionType=Normal\0MaxBurstLength=262144\0ImmediateData=No\0"
        );
        let before = w.len();
        assert_eq!(w.push(b"TooMuch", b"xxxxxxxx"), Err(TextError::BufferFull));
        assert_eq!(w.len(), before);
        assert_eq!(w.push(b"Bad=Key", b"x"), Err(TextError::BadKeyChar));
        assert_eq!(w.push(b"Key", b"a\0b"), Err(TextError::NulInValue));
    }

    #[test]
    fn writer_binary_values() {
        let mut buf = [0u8; 32];
        let mut w = TextWriter::new(&mut buf);
        w.push_binary(b"CHAP_C", &[1, 2, 0xff], BinaryEncoding::Hex)
            .unwrap();
        assert_eq!(w.written(), b"CHAP_C=0x0102ff\0");
    }

    #[test]
    fn assembler_joins_a_pair_split_across_pdus() {
        let mut a = TextAssembler::<80>::new();
        assert_eq!(a.push(b"TargetName=iqn.2003-01.org.ex", true), Ok(false));
        assert_eq!(a.pairs().last(), Some(Err(TextError::Unterminated)));
        assert_eq!(
            a.push(b"ample:t\0TargetAddress=10.0.0.1:3260,1\0", false),
            Ok(true)
        );
        let mut it = a.pairs();
        assert_eq!(
            it.next().unwrap().unwrap().value,
            b"iqn.2003-01.org.example:t"
        );
        assert_eq!(it.next().unwrap().unwrap().value, b"10.0.0.1:3260,1");
        assert_eq!(it.next(), None);
        // A new exchange starts over.
        assert_eq!(a.push(b"A=1\0", false), Ok(true));
        assert_eq!(a.text(), b"A=1\0");
        let mut small = TextAssembler::<4>::new();
        assert_eq!(small.push(b"A=12\0", false), Err(TextError::BufferFull));
    }

    #[test]
    fn format_u64_extremes() {
        let mut b = [0u8; 20];
        assert_eq!(format_u64(0, &mut b), b"0");
        assert_eq!(format_u64(u64::MAX, &mut b), b"18446744073709551615");
    }
}
