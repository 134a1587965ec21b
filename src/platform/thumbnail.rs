//! The smaller copy of a photo that lists and previews show.
//!
//! Unlike [`crate::platform::image_meta`], which keeps the stored photo's bytes as they were, this decodes
//! the pixels and encodes new ones: the Exif orientation is applied to the pixels (so the copy
//! needs no metadata to stand upright), and the encoder writes no Exif, XMP, ICC or text at
//! all, so nothing of where or with what the photo was taken reaches the copy. JPEG photos give
//! JPEG copies; PNG give PNG (keeping transparency). WebP is not decoded (the `image` crate is
//! built with JPEG and PNG only): such photos have no thumbnail.
//!
//! Decoding is bounded: at most [`MAX_EDGE`] pixels a side and [`MAX_ALLOC`] bytes of memory,
//! so a small file declaring a huge picture cannot exhaust the server.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels (sharp on a 3× phone screen at 160 points).
pub const SIZE: u32 = 480;

/// The largest picture decoded, per side.
pub const MAX_EDGE: u32 = 12_000;

/// The most memory one decode may take.
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// Why no thumbnail was made.
#[derive(Debug, thiserror::Error)]
pub enum NoThumbnail {
    #[error("thumbnails are made of JPEG and PNG photos only")]
    Unsupported,
    #[error("the photo could not be decoded: {0}")]
    Decode(#[from] image::ImageError),
}

/// A thumbnail of `bytes` (a photo of type `content_type`) and its type.
pub fn make(content_type: &str, bytes: &[u8]) -> Result<(Vec<u8>, &'static str), NoThumbnail> {
    let format = match content_type {
        "image/jpeg" => image::ImageFormat::Jpeg,
        "image/png" => image::ImageFormat::Png,
        _ => return Err(NoThumbnail::Unsupported),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_EDGE);
    limits.max_image_height = Some(MAX_EDGE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(orientation);
    let img = if img.width() > SIZE || img.height() > SIZE {
        img.thumbnail(SIZE, SIZE)
    } else {
        img
    };
    let mut out = Vec::new();
    match format {
        image::ImageFormat::Png => {
            img.write_to(Cursor::new(&mut out), image::ImageFormat::Png)?;
            Ok((out, "image/png"))
        }
        _ => {
            // JPEG has no alpha; photos from a camera have none either.
            let rgb = DynamicImage::ImageRgb8(img.into_rgb8());
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
            rgb.write_with_encoder(encoder)?;
            Ok((out, "image/jpeg"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, _| {
            image::Rgb([(x % 256) as u8, 80, 160])
        }));
        let mut out = Vec::new();
        img.write_to(Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .unwrap();
        out
    }

    #[test]
    fn a_large_photo_is_scaled_to_fit_and_a_small_one_kept_at_its_size() {
        let (t, ct) = make("image/jpeg", &jpeg(1200, 600)).unwrap();
        assert_eq!(ct, "image/jpeg");
        let d = image::load_from_memory(&t).unwrap();
        assert_eq!((d.width(), d.height()), (480, 240));
        let (t, _) = make("image/jpeg", &jpeg(100, 50)).unwrap();
        let d = image::load_from_memory(&t).unwrap();
        assert_eq!((d.width(), d.height()), (100, 50));
    }

    #[test]
    fn webp_and_garbage_give_no_thumbnail() {
        assert!(matches!(
            make("image/webp", b"RIFF\0\0\0\0WEBP"),
            Err(NoThumbnail::Unsupported)
        ));
        assert!(matches!(
            make("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xD9]),
            Err(NoThumbnail::Decode(_))
        ));
    }

    #[test]
    fn a_picture_larger_than_the_limit_is_not_decoded() {
        // A PNG header declaring 20000×20000 pixels: refused before any pixel is allocated.
        let img = DynamicImage::ImageLuma8(image::GrayImage::new(1, 1));
        let mut png = Vec::new();
        img.write_to(Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        // IHDR's width and height sit at bytes 16..24, its CRC (over type and data) at 29..33.
        png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = make("image/png", &png).unwrap_err();
        assert!(
            matches!(&err, NoThumbnail::Decode(image::ImageError::Limits(_))),
            "{err}"
        );
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
