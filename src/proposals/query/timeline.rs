//! A proposal's timeline: its events and its updates, merged, newest first (keyset).
