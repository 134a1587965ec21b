//! Photos without their metadata.
//!
//! A phone photo carries where it was taken (GPS), the device and often its owner's name, in
//! Exif, XMP or IPTC blocks, besides a thumbnail of the uncropped picture. None of it is needed
//! to show the photo, and attachments are seen by staff and neighbours, so it is taken out: on
//! upload (what is stored has none) and again on download (files stored before this existed).
//! [`strip`] is idempotent, and copies every byte it keeps as it was: the pixels are never
//! decoded or re-encoded.
//!
//! What stays is what display needs: for JPEG the frame and scan segments, APP0 (JFIF, without
//! its thumbnail), APP2 ICC profiles and APP14 (Adobe, which tells how to read the colours),
//! and the Exif orientation, written back alone, so that a portrait photo still stands upright.
//! For PNG every chunk but eXIf, tEXt, zTXt, iTXt and tIME; for WebP every chunk but EXIF and
//! XMP, with the VP8X flags and the RIFF size fixed to match.
//!
//! A file whose structure does not hold together (a truncated segment, a chunk running past
//! the end, a missing end marker) is refused rather than guessed at.

use std::fmt;

/// The file is not a well-formed image of the type its first bytes claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed image: {}", self.0)
    }
}

impl std::error::Error for Malformed {}

/// `bytes` of type `content_type` (`image/jpeg`, `image/png` or `image/webp`) without metadata.
pub fn strip(content_type: &str, bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    match content_type {
        "image/jpeg" => strip_jpeg(bytes),
        "image/png" => strip_png(bytes),
        "image/webp" => strip_webp(bytes),
        _ => Err(Malformed("not a JPEG, PNG or WebP image")),
    }
}

fn u16_be(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;

/// Where a JPEG's entropy-coded data ends: the first marker that is neither a stuffed 0xFF
/// (`FF 00`), a restart marker nor fill.
fn scan_end(b: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += b.get(at..)?.iter().position(|x| *x == 0xFF)?;
        let mut next = at + 1;
        while *b.get(next)? == 0xFF {
            next += 1;
        }
        match b[next] {
            0x00 | 0xD0..=0xD7 => at = next + 1,
            _ => return Some(next - 1),
        }
    }
}

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, Malformed> {
    if !b.starts_with(&[0xFF, SOI]) {
        return Err(Malformed("no JPEG start marker"));
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, SOI]);
    // Where the orientation goes: after SOI, or after a JFIF APP0 that comes first (JFIF
    // wants to be first).
    let mut orientation_at = out.len();
    let mut orientation = None;
    let mut at = 2;
    let mut first = true;
    loop {
        if b.get(at) != Some(&0xFF) {
            return Err(Malformed("a JPEG segment does not start with a marker"));
        }
        while b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let marker = *b.get(at + 1).ok_or(Malformed("the JPEG ends early"))?;
        match marker {
            EOI => {
                out.extend_from_slice(&[0xFF, EOI]);
                break;
            }
            SOI => return Err(Malformed("a second JPEG start marker")),
            // Standalone markers: no length, no payload.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                at += 2;
                continue;
            }
            _ => {}
        }
        let len = usize::from(u16_be(b, at + 2).ok_or(Malformed("the JPEG ends early"))?);
        if len < 2 {
            return Err(Malformed("a JPEG segment length under 2"));
        }
        let end = at + 2 + len;
        let segment = b
            .get(at..end)
            .ok_or(Malformed("a JPEG segment runs past the end"))?;
        let payload = &segment[4..];
        let keep = match marker {
            APP0 if payload.starts_with(b"JFIF\0") => {
                push_jfif(&mut out, payload);
                if first {
                    orientation_at = out.len();
                }
                false
            }
            APP1 => {
                if orientation.is_none() {
                    orientation = payload.strip_prefix(b"Exif\0\0").and_then(exif_orientation);
                }
                false
            }
            APP2 => payload.starts_with(b"ICC_PROFILE\0"),
            APP14 => payload.starts_with(b"Adobe"),
            0xE0..=0xEF | COM => false,
            _ => true,
        };
        if keep {
            out.extend_from_slice(segment);
        }
        first = false;
        at = end;
        if marker == SOS {
            let data_end = scan_end(b, at).ok_or(Malformed("the JPEG scan data ends early"))?;
            out.extend_from_slice(&b[at..data_end]);
            at = data_end;
        }
    }
    if let Some(o) = orientation.filter(|o| (2..=8).contains(o)) {
        out.splice(orientation_at..orientation_at, orientation_exif(o));
    }
    Ok(out)
}

/// A JFIF APP0 without the thumbnail it may carry (a small copy of the uncropped picture).
fn push_jfif(out: &mut Vec<u8>, payload: &[u8]) {
    // JFIF\0, version (2), units (1), densities (2 + 2), thumbnail width and height (1 + 1).
    let mut head = [0u8; 14];
    let n = payload.len().min(12);
    head[..n].copy_from_slice(&payload[..n]);
    out.extend_from_slice(&[0xFF, APP0, 0x00, 16]);
    out.extend_from_slice(&head);
}

/// The Orientation tag (0x0112) of IFD0 of an Exif block (a TIFF structure), if it holds one.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let two: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(two)
        } else {
            u16::from_le_bytes(two)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let four: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(four)
        } else {
            u32::from_le_bytes(four)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|i| {
        let entry = ifd + 2 + 12 * i;
        // Tag 0x0112, type SHORT, one value, held in the entry itself.
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3 && u32_at(entry + 4)? == 1)
            .then(|| u16_at(entry + 8))
            .flatten()
    })
}

/// An APP1 Exif segment holding nothing but the Orientation tag.
fn orientation_exif(orientation: u16) -> Vec<u8> {
    let mut s = vec![0xFF, APP1, 0x00, 34];
    s.extend_from_slice(b"Exif\0\0");
    // Big-endian TIFF header, IFD0 at offset 8.
    s.extend_from_slice(b"MM\0*\0\0\0\x08");
    // One entry: Orientation, SHORT, count 1, the value left-aligned; then no next IFD.
    s.extend_from_slice(&[0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]);
    s.extend_from_slice(&orientation.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    s
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const PNG_METADATA: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];

fn strip_png(b: &[u8]) -> Result<Vec<u8>, Malformed> {
    if !b.starts_with(PNG_SIGNATURE) {
        return Err(Malformed("no PNG signature"));
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut at = PNG_SIGNATURE.len();
    let mut first = true;
    loop {
        let len = u32_be(b, at).ok_or(Malformed("the PNG ends before IEND"))?;
        if len > 0x7FFF_FFFF {
            return Err(Malformed("a PNG chunk length over 2^31 - 1"));
        }
        let kind = b
            .get(at + 4..at + 8)
            .ok_or(Malformed("the PNG ends before IEND"))?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(Malformed("a PNG chunk type that is not four letters"));
        }
        if first && kind != b"IHDR" {
            return Err(Malformed("the first PNG chunk is not IHDR"));
        }
        first = false;
        // Length, type, data and CRC.
        let end = (at + 12)
            .checked_add(len as usize)
            .ok_or(Malformed("a PNG chunk runs past the end"))?;
        let chunk = b
            .get(at..end)
            .ok_or(Malformed("a PNG chunk runs past the end"))?;
        if !PNG_METADATA.iter().any(|m| m.as_slice() == kind) {
            out.extend_from_slice(chunk);
        }
        at = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// VP8X flags: an Exif chunk, an XMP chunk.
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

fn strip_webp(b: &[u8]) -> Result<Vec<u8>, Malformed> {
    if b.len() < 12 || &b[..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return Err(Malformed("no RIFF WEBP header"));
    }
    let riff_len = u32_le(b, 4).ok_or(Malformed("no RIFF size"))? as usize;
    // The RIFF payload counts from "WEBP"; anything after it is not part of the image.
    let riff_end = 8usize
        .checked_add(riff_len)
        .filter(|e| *e <= b.len())
        .ok_or(Malformed("the RIFF size runs past the end"))?;
    let mut out = Vec::with_capacity(riff_end);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut at = 12;
    let mut chunks = 0;
    while at < riff_end {
        let kind = b
            .get(at..at + 4)
            .filter(|_| at + 8 <= riff_end)
            .ok_or(Malformed("a WebP chunk header runs past the end"))?;
        let len =
            u32_le(b, at + 4).ok_or(Malformed("a WebP chunk header runs past the end"))? as usize;
        // Chunks are padded to an even size.
        let end = (at + 8)
            .checked_add(len + (len & 1))
            .filter(|e| *e <= riff_end)
            .ok_or(Malformed("a WebP chunk runs past the end"))?;
        match kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                if len < 10 {
                    return Err(Malformed("a VP8X chunk under 10 bytes"));
                }
                let start = out.len();
                out.extend_from_slice(&b[at..end]);
                out[start + 8] &= !(VP8X_EXIF | VP8X_XMP);
            }
            _ => out.extend_from_slice(&b[at..end]),
        }
        chunks += 1;
        at = end;
    }
    if chunks == 0 {
        return Err(Malformed("a WebP file without chunks"));
    }
    let size = u32::try_from(out.len() - 8).map_err(|_| Malformed("a WebP over 4 GiB"))?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + 2).unwrap();
        [&[0xFF, marker][..], &len.to_be_bytes(), payload].concat()
    }

    /// An Exif APP1 payload: IFD0 with Make, Orientation (when given) and a GPS IFD holding a
    /// latitude, in the byte order asked for.
    fn exif(big_endian: bool, orientation: Option<u16>, make: &str) -> Vec<u8> {
        let w16 = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w32 = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut entries: Vec<(u16, u16, u32, [u8; 4])> = Vec::new();
        let count = 2 + u16::from(orientation.is_some());
        let ifd0_len = 2 + 12 * u32::from(count) + 4;
        let make_at = 8 + ifd0_len;
        let make_len = make.len() as u32 + 1;
        let gps_at = make_at + make_len;
        entries.push((0x010F, 2, make_len, w32(make_at)));
        if let Some(o) = orientation {
            let mut v = [0u8; 4];
            v[..2].copy_from_slice(&w16(o));
            entries.push((0x0112, 3, 1, v));
        }
        entries.push((0x8825, 4, 1, w32(gps_at)));
        let mut tiff = Vec::new();
        tiff.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
        tiff.extend_from_slice(&w32(8));
        tiff.extend_from_slice(&w16(count));
        for (tag, kind, n, value) in entries {
            tiff.extend_from_slice(&w16(tag));
            tiff.extend_from_slice(&w16(kind));
            tiff.extend_from_slice(&w32(n));
            tiff.extend_from_slice(&value);
        }
        tiff.extend_from_slice(&w32(0));
        tiff.extend_from_slice(make.as_bytes());
        tiff.push(0);
        // GPS IFD: GPSLatitudeRef "N".
        tiff.extend_from_slice(&w16(1));
        tiff.extend_from_slice(&w16(0x0001));
        tiff.extend_from_slice(&w16(2));
        tiff.extend_from_slice(&w32(2));
        tiff.extend_from_slice(b"N\0\0\0");
        tiff.extend_from_slice(&w32(0));
        [b"Exif\0\0".as_slice(), &tiff].concat()
    }

    /// The frame of a decodable 8×8 grey baseline JPEG: quantisation, frame, Huffman tables
    /// with one code each, and the scan header.
    fn frame() -> Vec<u8> {
        [
            segment(0xDB, &[&[0u8][..], &[1u8; 64]].concat()),
            segment(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
            segment(0xC4, &[&[0x00, 1][..], &[0u8; 15], &[0]].concat()),
            segment(0xC4, &[&[0x10, 1][..], &[0u8; 15], &[0]].concat()),
            segment(SOS, &[1, 1, 0x00, 0, 63, 0]),
        ]
        .concat()
    }

    fn jpeg(before_frame: &[Vec<u8>], scan: &[u8], after: &[u8]) -> Vec<u8> {
        [
            &[0xFF, SOI][..],
            &before_frame.concat(),
            &frame(),
            scan,
            &[0xFF, EOI],
            after,
        ]
        .concat()
    }

    fn jfif(thumbnail: bool) -> Vec<u8> {
        let mut p = b"JFIF\0\x01\x02\x01\x00\x48\x00\x48".to_vec();
        if thumbnail {
            p.extend_from_slice(&[1, 1, 0xAA, 0xBB, 0xCC]);
        } else {
            p.extend_from_slice(&[0, 0]);
        }
        segment(APP0, &p)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_metadata_goes_and_the_orientation_stays() {
        let icc = segment(APP2, b"ICC_PROFILE\0\x01\x01profile");
        let adobe = segment(APP14, b"Adobe\0\x64\0\0\0\0\x01");
        // Stuffed 0xFF and a restart marker inside the scan stay as they are.
        let scan = [0x3F, 0xFF, 0x00, 0x12, 0xFF, 0xD0, 0x34];
        let photo = jpeg(
            &[
                jfif(true),
                segment(APP1, &exif(false, Some(6), "Canon EOS owner 张三")),
                segment(
                    APP1,
                    b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS</x:xmpmeta>",
                ),
                icc.clone(),
                segment(APP2, b"MPF\0II*\0"),
                segment(0xED, b"Photoshop 3.0\08BIM\x04\x04 IPTC by-line"),
                adobe.clone(),
                segment(COM, b"taken at home"),
                segment(0xE5, b"vendor"),
            ],
            &scan,
            b"trailer with a second picture",
        );
        let clean = strip_jpeg(&photo).unwrap();
        let expected = jpeg(&[jfif(false), orientation_exif(6), icc, adobe], &scan, b"");
        assert_eq!(clean, expected);
        assert!(!contains(&clean, b"Canon"));
        assert!(!contains(&clean, &0x8825u16.to_be_bytes()));
        assert!(!contains(&clean, b"xmpmeta") && !contains(&clean, b"IPTC"));
        assert_eq!(exif_orientation(&orientation_exif(6)[10..]), Some(6));
        // Cleaning a clean photo changes nothing.
        assert_eq!(strip_jpeg(&clean).unwrap(), clean);
    }

    #[test]
    fn orientation_is_read_in_either_byte_order_and_upright_needs_no_exif() {
        for big in [false, true] {
            let tiff = exif(big, Some(8), "x");
            assert_eq!(exif_orientation(&tiff[6..]), Some(8));
            let photo = jpeg(&[segment(APP1, &tiff)], &[0x3F], b"");
            let clean = strip_jpeg(&photo).unwrap();
            assert_eq!(clean, jpeg(&[orientation_exif(8)], &[0x3F], b""));
        }
        let upright = jpeg(&[segment(APP1, &exif(true, Some(1), "x"))], &[0x3F], b"");
        assert_eq!(strip_jpeg(&upright).unwrap(), jpeg(&[], &[0x3F], b""));
        let none = jpeg(&[segment(APP1, &exif(true, None, "x"))], &[0x3F], b"");
        assert_eq!(strip_jpeg(&none).unwrap(), jpeg(&[], &[0x3F], b""));
        // A broken Exif block is dropped like any other; the photo is still fine.
        let broken = jpeg(&[segment(APP1, b"Exif\0\0MM\0*\xFF\xFF")], &[0x3F], b"");
        assert_eq!(strip_jpeg(&broken).unwrap(), jpeg(&[], &[0x3F], b""));
        // Without JFIF, the orientation goes right after SOI.
        let photo = jpeg(&[segment(APP1, &exif(true, Some(3), "x"))], &[0x3F], b"");
        assert!(strip_jpeg(&photo).unwrap()[2..].starts_with(&orientation_exif(3)));
    }

    #[test]
    fn a_clean_progressive_jpeg_comes_back_byte_for_byte() {
        let second_scan = [
            segment(0xC4, &[&[0x11, 1][..], &[0u8; 15], &[0]].concat()),
            segment(SOS, &[1, 1, 0x01, 1, 63, 0]),
        ]
        .concat();
        let photo = jpeg(
            &[jfif(false), segment(0xDD, &[0, 4])],
            &[
                &[0x3F, 0xFF, 0xFF, 0x00][..],
                &second_scan,
                &[0x55, 0xFF, 0xD7, 0x66],
            ]
            .concat(),
            b"",
        );
        assert_eq!(strip_jpeg(&photo).unwrap(), photo);
    }

    #[test]
    fn malformed_jpegs_are_refused() {
        let good = jpeg(&[jfif(false)], &[0x3F], b"");
        assert!(strip_jpeg(&good).is_ok());
        let frame_at = 2 + jfif(false).len();
        for (what, bad) in [
            ("no start marker", good[2..].to_vec()),
            ("truncated segment", good[..frame_at + 20].to_vec()),
            ("truncated scan, no EOI", good[..good.len() - 2].to_vec()),
            ("cut in a length", good[..frame_at + 3].to_vec()),
            (
                "length under 2",
                [&good[..frame_at], &[0xFF, 0xDB, 0x00, 0x01]].concat(),
            ),
            (
                "garbage between segments",
                [&good[..frame_at], &[0x00], &good[frame_at..]].concat(),
            ),
            (
                "a second SOI",
                [&good[..frame_at], &[0xFF, SOI], &good[frame_at..]].concat(),
            ),
            ("nothing after SOI", vec![0xFF, SOI]),
        ] {
            assert!(strip_jpeg(&bad).is_err(), "{what}");
        }
    }

    fn crc32(bytes: &[u8]) -> u32 {
        !bytes.iter().fold(!0u32, |crc, b| {
            (0..8).fold(crc ^ u32::from(*b), |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let crc = crc32(&[kind.as_slice(), data].concat());
        [
            &(data.len() as u32).to_be_bytes()[..],
            kind,
            data,
            &crc.to_be_bytes(),
        ]
        .concat()
    }

    fn png(chunks: &[Vec<u8>], after: &[u8]) -> Vec<u8> {
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        let idat = chunk(
            b"IDAT",
            &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        );
        [
            PNG_SIGNATURE,
            &ihdr,
            &chunks.concat(),
            &idat,
            &chunk(b"IEND", b""),
            after,
        ]
        .concat()
    }

    #[test]
    fn png_text_exif_and_time_chunks_go() {
        let phys = chunk(b"pHYs", &[0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1]);
        let srgb = chunk(b"sRGB", &[0]);
        let photo = png(
            &[
                srgb.clone(),
                chunk(b"tEXt", b"Author\0Zhang San"),
                chunk(b"zTXt", b"Comment\0\0x\x9c"),
                chunk(b"iTXt", b"GPS\0\0\0\0\0here"),
                chunk(b"eXIf", &exif(true, Some(6), "Canon")[6..]),
                chunk(b"tIME", &[0x07, 0xEA, 1, 2, 3, 4, 5]),
                phys.clone(),
            ],
            b"trailing",
        );
        let clean = strip_png(&photo).unwrap();
        assert_eq!(clean, png(&[srgb, phys], b""));
        assert!(!contains(&clean, b"Zhang") && !contains(&clean, b"Canon"));
        assert_eq!(strip_png(&clean).unwrap(), clean);
    }

    #[test]
    fn malformed_pngs_are_refused() {
        let good = png(&[], b"");
        assert_eq!(strip_png(&good).unwrap(), good);
        let ihdr_end = 8 + 25;
        for (what, bad) in [
            ("no signature", good[1..].to_vec()),
            ("truncated chunk", good[..ihdr_end - 3].to_vec()),
            ("no IEND", good[..good.len() - 12].to_vec()),
            (
                "length past the end",
                [&good[..ihdr_end], &0x00FF_FFFFu32.to_be_bytes(), b"IDAT"].concat(),
            ),
            (
                "length over 2^31",
                [&good[..ihdr_end], &0x8000_0000u32.to_be_bytes(), b"IDAT"].concat(),
            ),
            (
                "type not letters",
                [&good[..ihdr_end], &chunk(b"ID\0T", b"x"), &good[ihdr_end..]].concat(),
            ),
            (
                "IHDR not first",
                [PNG_SIGNATURE, &chunk(b"tEXt", b"a\0b"), &good[8..]].concat(),
            ),
        ] {
            assert!(strip_png(&bad).is_err(), "{what}");
        }
    }

    fn riff(chunks: &[Vec<u8>], after: &[u8]) -> Vec<u8> {
        let body = chunks.concat();
        [
            b"RIFF".as_slice(),
            &(body.len() as u32 + 4).to_le_bytes(),
            b"WEBP",
            &body,
            after,
        ]
        .concat()
    }

    fn webp_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = [kind.as_slice(), &(data.len() as u32).to_le_bytes(), data].concat();
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn vp8x(flags: u8) -> Vec<u8> {
        webp_chunk(b"VP8X", &[flags, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    #[test]
    fn webp_exif_and_xmp_go_with_their_flags() {
        let icc = webp_chunk(b"ICCP", b"profile");
        let image = webp_chunk(b"VP8 ", b"\x10\x02\x00\x9d\x01\x2a\x01\x00\x01\x00");
        let photo = riff(
            &[
                vp8x(0x20 | 0x10 | VP8X_EXIF | VP8X_XMP),
                icc.clone(),
                image.clone(),
                webp_chunk(b"EXIF", &exif(false, Some(6), "Canon")[6..]),
                webp_chunk(b"XMP ", b"<x:xmpmeta>GPS</x:xmpmeta>"),
            ],
            b"after the RIFF",
        );
        let clean = strip_webp(&photo).unwrap();
        assert_eq!(clean, riff(&[vp8x(0x20 | 0x10), icc, image.clone()], b""));
        assert!(!contains(&clean, b"Canon") && !contains(&clean, b"xmpmeta"));
        assert_eq!(strip_webp(&clean).unwrap(), clean);
        let simple = riff(&[image], b"");
        assert_eq!(strip_webp(&simple).unwrap(), simple);
    }

    #[test]
    fn malformed_webps_are_refused() {
        let good = riff(
            &[vp8x(0), webp_chunk(b"VP8L", b"\x2f\x00\x00\x00\x00")],
            b"",
        );
        assert!(strip_webp(&good).is_ok());
        let mut riff_too_long = good.clone();
        riff_too_long[4] += 2;
        let mut chunk_too_long = good.clone();
        chunk_too_long[16] = 0xFF;
        for (what, bad) in [
            ("no header", good[4..].to_vec()),
            ("RIFF size past the end", riff_too_long),
            ("chunk past the RIFF", chunk_too_long),
            ("truncated", good[..good.len() - 3].to_vec()),
            ("no chunks", riff(&[], b"")),
            ("VP8X too short", riff(&[webp_chunk(b"VP8X", &[0, 0])], b"")),
        ] {
            assert!(strip_webp(&bad).is_err(), "{what}");
        }
    }

    #[test]
    fn other_types_are_refused() {
        assert!(strip("image/gif", b"GIF89a").is_err());
        assert!(strip("image/jpeg", &jpeg(&[], &[0x3F], b"")).is_ok());
    }
}
