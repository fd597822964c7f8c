"""placeholder: see ARCHITECTURE.md"""
