"""Training the contrastive model and fine-tuning engines (`sfx train`); see the open issues on training."""
