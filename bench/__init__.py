"""KubeKuma benchmarks: `make bench` or `python -m bench [--quick] [--only NAME]`."""
