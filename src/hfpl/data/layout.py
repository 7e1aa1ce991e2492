"""Where a prepared dataset keeps what the workflow waits for (no heavy imports: read at DAG time).

`hfpl data voc|coco` write their marker last, so its presence means the dataset is complete;
`hfpl data lists` (VOC) and `hfpl smoke-data` write the per-method list files under `lists/`;
`hfpl data coco` writes COCO's list files last, so they are its marker.
"""

# dataset -> paths below its data root that every step on it depends on
DATASET_INPUTS = {
    "voc": ("VOCdevkit/VOC2012/ImageSets/Segmentation/train_aug.txt", "lists"),
    "coco": ("lists/seam/coco/cls_labels.npy",),
}
