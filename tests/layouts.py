"""torchvision's ResNet state_dict layout, written from its naming rule, so that tests can build
torchvision-style weight files without torchvision installed."""

BLOCKS = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}


def _bn(prefix, channels):
    return {
        f"{prefix}.weight": (channels,),
        f"{prefix}.bias": (channels,),
        f"{prefix}.running_mean": (channels,),
        f"{prefix}.running_var": (channels,),
        f"{prefix}.num_batches_tracked": (),
    }


def torchvision_layout(depth, num_classes=1000):
    """Key -> shape of torchvision's resnet{depth}, written from its naming rule."""
    bottleneck = depth >= 50
    expansion = 4 if bottleneck else 1
    keys = {"conv1.weight": (64, 3, 7, 7), **_bn("bn1", 64)}
    in_ch = 64
    for stage, (n, width) in enumerate(zip(BLOCKS[depth], (64, 128, 256, 512)), start=1):
        for i in range(n):
            p = f"layer{stage}.{i}"
            if bottleneck:
                convs = [(in_ch, width, 1), (width, width, 3), (width, width * 4, 1)]
            else:
                convs = [(in_ch, width, 3), (width, width, 3)]
            for k, (cin, cout, ksize) in enumerate(convs, start=1):
                keys[f"{p}.conv{k}.weight"] = (cout, cin, ksize, ksize)
                keys.update(_bn(f"{p}.bn{k}", cout))
            out_ch = width * expansion
            if i == 0 and (stage > 1 or in_ch != out_ch):
                keys[f"{p}.downsample.0.weight"] = (out_ch, in_ch, 1, 1)
                keys.update(_bn(f"{p}.downsample.1", out_ch))
            in_ch = out_ch
    keys["fc.weight"] = (num_classes, in_ch)
    keys["fc.bias"] = (num_classes,)
    return keys
