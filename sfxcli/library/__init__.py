"""Sound libraries: indexing folders of recordings and matching labels to them."""
