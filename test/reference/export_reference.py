"""Independent checks of Tractus's clinical exports (test/unit/export-clinical.test.ts), with pydicom, nibabel
and numpy only: this file never imports Tractus code, and prints JSON for the test to compare.

  make-series SRC OUT N        N-slice series from one real MR file (new SOP UIDs, positions along its normal)
  make-nifti OUT               a small volume stored sagittally and flipped, with a real sform
  dice DIR LABELS S R C ROI=BIT…   Dice of plastimatch's structure images in DIR vs a raw uint8 bit-mask volume
  seg FILE MRDIR               the SEG's frames: segment label, referenced slice (MR InstanceNumber), sha1
  seg-dicom FILE SRCDIR        the same for a SEG that references a source series (InstanceNumber of source)
  nifti A B                    shapes and affines of two NIfTI files, as stored and in closest-canonical form
  rtstruct FILE                ROI names with their number of contours and points
"""
import hashlib
import json
import os
import sys

import numpy as np


def make_series(src, out, n):
    import pydicom
    from pydicom.uid import generate_uid

    os.makedirs(out, exist_ok=True)
    base = pydicom.dcmread(src)
    iop = np.array([float(v) for v in base.ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    ipp = np.array([float(v) for v in base.ImagePositionPatient])
    step = float(base.get('SliceThickness', 1) or 1)
    series = generate_uid()
    frame = base.get('FrameOfReferenceUID') or generate_uid()
    for k in range(n):
        ds = pydicom.dcmread(src)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesInstanceUID = series
        ds.FrameOfReferenceUID = frame
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [f'{v:.6f}' for v in ipp + k * step * normal]
        # The source is one tile of a Siemens mosaic: without the mosaic markers every tool reads it as the
        # plain oblique slice it is (pixels and geometry stay the real file's).
        ds.remove_private_tags()
        ds.ImageType = ['ORIGINAL', 'PRIMARY', 'M', 'ND']
        ds.BodyPartExamined = 'ABDOMEN'
        ds.save_as(os.path.join(out, f'IM{k + 1:04d}.dcm'))
    print(json.dumps({'series': series, 'frame': frame}))


def make_nifti(out):
    import nibabel as nib

    # voxel i runs anterior→posterior, j inferior→superior, k right→left: a sagittal stack, not RAS order
    affine = np.array([[0, 0, 1.5, -30.0], [-1.2, 0, 0, 40.0], [0, 2.0, 0, -25.0], [0, 0, 0, 1]])
    rng = np.random.default_rng(11)
    data = rng.integers(0, 1000, size=(24, 6, 20)).astype(np.int16)
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    nib.save(img, out)
    print(json.dumps({'shape': list(data.shape)}))


def dice(folder, labels, s, r, c, rois):
    import nibabel as nib

    truth = np.fromfile(labels, dtype=np.uint8).reshape(s, r, c)
    out = {}
    for spec in rois:
        name, bit = spec.split('=')
        path = os.path.join(folder, f'{name}.nii.gz')
        t = (truth & int(bit)) > 0
        if not os.path.exists(path):
            out[name] = {'dice': None, 'truth': int(t.sum()), 'plastimatch': 0}
            continue
        img = nib.load(path)
        # ITK writes (column, row, slice); slices ascending along the normal as plastimatch sorted them
        p = np.asarray(img.dataobj).transpose(2, 1, 0) > 0
        if p.shape != t.shape:
            out[name] = {'dice': None, 'shape': list(p.shape)}
            continue
        denom = int(p.sum() + t.sum())
        out[name] = {
            'dice': 1.0 if denom == 0 else float(2 * (p & t).sum() / denom),
            'truth': int(t.sum()),
            'plastimatch': int(p.sum()),
        }
    print(json.dumps(out))


def seg(file, image_dir):
    import pydicom

    instance = {}
    for name in sorted(os.listdir(image_dir)):
        if name.endswith('.dcm'):
            ds = pydicom.dcmread(os.path.join(image_dir, name), stop_before_pixels=True)
            instance[ds.SOPInstanceUID] = int(ds.InstanceNumber)
    ds = pydicom.dcmread(file)
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns))
    labels = {int(s.SegmentNumber): str(s.SegmentLabel) for s in ds.SegmentSequence}
    codes = {int(s.SegmentNumber): str(s.SegmentedPropertyTypeCodeSequence[0].CodeValue) for s in ds.SegmentSequence}
    out = []
    for f, group in enumerate(ds.PerFrameFunctionalGroupsSequence):
        number = int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        sop = group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        out.append({
            'label': labels[number],
            'code': codes[number],
            'instance': instance.get(sop),
            'position': [float(v) for v in group.PlanePositionSequence[0].ImagePositionPatient],
            'sha1': hashlib.sha1(np.ascontiguousarray(frames[f], dtype=np.uint8).tobytes()).hexdigest(),
        })
    print(json.dumps({'modality': ds.Modality, 'type': ds.SegmentationType, 'frames': out}))


def nifti(a, b):
    import nibabel as nib

    out = {}
    for key, path in (('a', a), ('b', b)):
        img = nib.load(path)
        canonical = nib.as_closest_canonical(img)
        out[key] = {
            'shape': list(img.shape[:3]),
            'affine': np.round(img.affine, 4).tolist(),
            'canonicalShape': list(canonical.shape[:3]),
            'canonicalAffine': np.round(canonical.affine, 3).tolist(),
            'labels': sorted(int(v) for v in np.unique(np.asarray(img.dataobj)))[:10],
        }
    print(json.dumps(out))


def rtstruct(file):
    import pydicom

    ds = pydicom.dcmread(file, force=True)
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    out = []
    for roi in ds.ROIContourSequence:
        contours = roi.get('ContourSequence', [])
        out.append({
            'name': names.get(int(roi.ReferencedROINumber)),
            'contours': len(contours),
            'points': sum(int(c.NumberOfContourPoints) for c in contours),
        })
    print(json.dumps(out))


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'make-series':
        make_series(args[0], args[1], int(args[2]))
    elif cmd == 'make-nifti':
        make_nifti(args[0])
    elif cmd == 'dice':
        dice(args[0], args[1], int(args[2]), int(args[3]), int(args[4]), args[5:])
    elif cmd in ('seg', 'seg-dicom'):
        seg(args[0], args[1])
    elif cmd == 'nifti':
        nifti(args[0], args[1])
    elif cmd == 'rtstruct':
        rtstruct(args[0])
    else:
        sys.exit(f'unknown command {cmd}')
