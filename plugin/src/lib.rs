//! Rosin as a VST3/CLAP instrument (nice-plug glue; no DSP here).
