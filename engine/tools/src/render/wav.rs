//! WAV files as every reader opens them.
//!
//! hound writes the WAVE_FORMAT_EXTENSIBLE header for anything above 16 bits, which Python's
//! `wave` module and some older tools refuse. The plain `WAVEFORMATEX` header (format 1, integer
//! PCM; format 3, IEEE float, with the `fact` chunk the spec asks of non-PCM data) describes
//! one- and two-channel 24-bit and float files completely, and every reader takes it, so the
//! stems are written with it here. Reading stays with hound, which reads both headers.

use super::{RenderError, SampleFormat};
use std::io::{BufWriter, Write};
use std::path::Path;

/// The largest data chunk a RIFF file can describe (its sizes are 32-bit).
const MAX_DATA_BYTES: u64 = u32::MAX as u64 - 64;

/// Writes interleaved audio of `channels` (1 or 2) channels. Returns the number of samples
/// clipped to full scale (24-bit only; float keeps values beyond ±1).
pub fn write_wav(
    path: &Path,
    interleaved: &[f32],
    channels: u16,
    sample_rate: u32,
    format: SampleFormat,
) -> Result<usize, RenderError> {
    assert!(channels == 1 || channels == 2, "plain WAV headers describe 1 or 2 channels");
    let io_err = |source| RenderError::Io { path: path.to_owned(), source };
    let (tag, bytes_per_sample): (u16, u16) = match format {
        SampleFormat::Int24 => (1, 3),
        SampleFormat::Float32 => (3, 4),
    };
    let data_bytes = interleaved.len() as u64 * bytes_per_sample as u64;
    if data_bytes > MAX_DATA_BYTES {
        return Err(io_err(std::io::Error::other(format!(
            "{data_bytes} bytes of audio exceed the 4 GB a WAV file can hold; render at a lower \
             sample rate, as 24-bit, or in shorter parts"
        ))));
    }
    let data_bytes = data_bytes as u32;
    let pad = data_bytes % 2; // RIFF chunks are word-aligned.
    let float = format == SampleFormat::Float32;
    // fmt (16 bytes, 18 with cbSize for float), fact for float, data.
    let fmt_bytes: u32 = if float { 18 } else { 16 };
    let fact_chunk: u32 = if float { 12 } else { 0 };
    let riff_bytes = 4 + (8 + fmt_bytes) + fact_chunk + (8 + data_bytes + pad);

    let file = std::fs::File::create(path).map_err(io_err)?;
    let mut w = BufWriter::new(file);
    let block_align = channels * bytes_per_sample;
    let mut header = Vec::with_capacity(64);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&riff_bytes.to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&fmt_bytes.to_le_bytes());
    header.extend_from_slice(&tag.to_le_bytes());
    header.extend_from_slice(&channels.to_le_bytes());
    header.extend_from_slice(&sample_rate.to_le_bytes());
    header.extend_from_slice(&(sample_rate * block_align as u32).to_le_bytes());
    header.extend_from_slice(&block_align.to_le_bytes());
    header.extend_from_slice(&(bytes_per_sample * 8).to_le_bytes());
    if float {
        header.extend_from_slice(&0u16.to_le_bytes()); // cbSize: no extension
        header.extend_from_slice(b"fact");
        header.extend_from_slice(&4u32.to_le_bytes());
        header.extend_from_slice(&((interleaved.len() / channels as usize) as u32).to_le_bytes());
    }
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_bytes.to_le_bytes());
    w.write_all(&header).map_err(io_err)?;

    let mut clipped = 0;
    for &x in interleaved {
        match format {
            SampleFormat::Float32 => w.write_all(&x.to_le_bytes()).map_err(io_err)?,
            SampleFormat::Int24 => {
                const FULL: f32 = 8_388_607.0;
                if x.abs() > 1.0 {
                    clipped += 1;
                }
                let v = (x.clamp(-1.0, 1.0) * FULL).round() as i32;
                w.write_all(&v.to_le_bytes()[..3]).map_err(io_err)?;
            }
        }
    }
    if pad == 1 {
        w.write_all(&[0]).map_err(io_err)?;
    }
    w.flush().map_err(io_err)?;
    Ok(clipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rosin-wav-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    fn fmt_tag(path: &Path) -> u16 {
        let b = std::fs::read(path).unwrap();
        u16::from_le_bytes([b[20], b[21]])
    }

    #[test]
    fn int24_is_plain_pcm_and_reads_back_exactly() {
        // An odd sample count: the data chunk needs its pad byte.
        let audio: Vec<f32> = (0..1001).map(|i| ((i as f32) * 0.01).sin() * 0.9).collect();
        for channels in [1u16, 2] {
            let audio = &audio[..audio.len() - audio.len() % channels as usize];
            let p = tmp(&format!("int24-{channels}.wav"));
            let clipped = write_wav(&p, audio, channels, 48_000, SampleFormat::Int24).unwrap();
            assert_eq!(clipped, 0);
            assert_eq!(fmt_tag(&p), 1, "WAVE_FORMAT_PCM, not EXTENSIBLE");
            assert_eq!(std::fs::metadata(&p).unwrap().len() % 2, 0, "RIFF size is word-aligned");
            let mut r = hound::WavReader::open(&p).unwrap();
            let spec = r.spec();
            assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (channels, 48_000, 24));
            let back: Vec<i32> = r.samples::<i32>().map(|s| s.unwrap()).collect();
            assert_eq!(back.len(), audio.len());
            for (b, x) in back.iter().zip(audio) {
                assert_eq!(*b, (x * 8_388_607.0).round() as i32);
            }
        }
    }

    #[test]
    fn float32_is_ieee_float_with_fact_chunk_and_reads_back_bit_exact() {
        let audio = vec![0.25f32, -1.5, 2.0, 1e-7, -0.0];
        let p = tmp("float.wav");
        assert_eq!(write_wav(&p, &audio, 1, 96_000, SampleFormat::Float32).unwrap(), 0);
        assert_eq!(fmt_tag(&p), 3);
        let mut r = hound::WavReader::open(&p).unwrap();
        assert_eq!(r.spec().sample_format, hound::SampleFormat::Float);
        let back: Vec<f32> = r.samples::<f32>().map(|s| s.unwrap()).collect();
        assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            audio.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn int24_counts_and_clamps_clipped_samples() {
        let p = tmp("clip.wav");
        assert_eq!(write_wav(&p, &[0.5, 1.2, -3.0, 1.0], 1, 44_100, SampleFormat::Int24).unwrap(), 2);
        let back: Vec<i32> = hound::WavReader::open(&p).unwrap().samples::<i32>().map(|s| s.unwrap()).collect();
        assert_eq!(back[1..], [8_388_607, -8_388_607, 8_388_607]);
    }

    #[test]
    fn unwritable_path_names_the_file() {
        let p = Path::new("/nonexistent-dir/x.wav");
        let e = write_wav(p, &[0.0], 1, 48_000, SampleFormat::Int24).unwrap_err().to_string();
        assert!(e.contains("/nonexistent-dir/x.wav"), "{e}");
    }
}
