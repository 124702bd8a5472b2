print("milo-bench: not yet written")
