"""Pure decisions about states, incidents and alerts. No I/O: `now` is always an argument."""
