bfloat16 = "torch.bfloat16"
