"""The collector: receive, store, judge and show."""
