#!/usr/bin/env python3
"""Independent reference readers for the imaging tests (main/imaging is checked against these, never itself).

Usage:
  imaging_reference.py png <file>            -> JSON stats of a PNG read by Pillow
  imaging_reference.py dicom <file>...       -> JSON stats per file of pydicom's pixel_array (rescaled)
  imaging_reference.py nifti-write <dir>     -> writes test volumes with nibabel and prints what was written
Stats: width, height, dtype, min, max, sum and sha256 of the values as little-endian float64.
"""
import hashlib
import json
import sys

import numpy as np


def stats(a):
    a = np.asarray(a)
    values = a.astype('<f8')
    return {
        'height': int(a.shape[0]),
        'width': int(a.shape[1]),
        'dtype': str(a.dtype.newbyteorder('=')) if a.dtype.byteorder not in ('=', '|') else str(a.dtype),
        'min': float(values.min()),
        'max': float(values.max()),
        'sum': float(values.sum()),
        'sha256': hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest(),
    }


def cmd_png(path):
    from PIL import Image

    img = Image.open(path)
    print(json.dumps({'mode': img.mode, **stats(np.array(img))}))


def cmd_dicom(paths):
    import pydicom
    from pydicom.pixel_data_handlers.util import apply_modality_lut

    out = {}
    for path in paths:
        try:
            ds = pydicom.dcmread(path)
            a = ds.pixel_array
            if 'RescaleSlope' in ds or 'RescaleIntercept' in ds:
                a = apply_modality_lut(a, ds)
            out[path] = stats(a)
        except Exception as e:  # the test only needs to know pydicom could not give pixels
            out[path] = {'error': f'{type(e).__name__}: {e}'[:300]}
    print(json.dumps(out))


def cmd_dicom_series(source, folder):
    """Two series made from one real slice, written with pydicom, to check ordering and rescale.

    Series A: 4 slices on a tilted plane, positions k * 2.5 mm along the normal, InstanceNumber and file
    names scrambled; pixel (0, 0) = 1000 + k tells the true order.
    Series B: 3 slices without ImagePositionPatient (order by InstanceNumber), rescale slope 0.5, intercept
    0.25; pixel (0, 0) = 2000 + InstanceNumber.
    """
    import math
    import os

    import pydicom
    from pydicom.uid import generate_uid

    os.makedirs(folder, exist_ok=True)
    c, s = math.cos(0.3), math.sin(0.3)
    row, col = np.array([1.0, 0.0, 0.0]), np.array([0.0, c, -s])
    normal = np.cross(row, col)
    origin = np.array([-80.0, -90.0, 5.0])
    uid_a, uid_b = generate_uid(), generate_uid()
    instance_a = [3, 1, 4, 2]
    names_a = ['z.dcm', 'b.dcm', 'y.dcm', 'a.dcm']
    for k in range(4):
        ds = pydicom.dcmread(source)
        ds.SeriesInstanceUID = uid_a
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesNumber = 7
        ds.SeriesDescription = 'tilted'
        ds.ImageOrientationPatient = [f'{v:.6f}' for v in (*row, *col)]
        ds.ImagePositionPatient = [f'{v:.6f}' for v in origin + k * 2.5 * normal]
        ds.InstanceNumber = instance_a[k]
        a = ds.pixel_array.copy()
        a[0, 0] = 1000 + k
        ds.PixelData = a.astype(a.dtype.newbyteorder('<')).tobytes()
        ds.save_as(os.path.join(folder, names_a[k]))
    for n in (2, 3, 1):
        ds = pydicom.dcmread(source)
        ds.SeriesInstanceUID = uid_b
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesNumber = 8
        del ds.ImagePositionPatient
        ds.InstanceNumber = n
        ds.RescaleSlope = '0.5'
        ds.RescaleIntercept = '0.25'
        a = ds.pixel_array.copy()
        a[0, 0] = 2000 + n
        ds.PixelData = a.astype(a.dtype.newbyteorder('<')).tobytes()
        ds.save_as(os.path.join(folder, f'b_{4 - n}.dcm'))
    # Multi-frame: two frames in one file, frame f has pixel (0, 0) = 3000 + f
    ds = pydicom.dcmread(source)
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 9
    a = ds.pixel_array
    frames = np.stack([a, a]).copy()
    frames[0, 0, 0], frames[1, 0, 0] = 3000, 3001
    ds.NumberOfFrames = 2
    ds.PixelData = frames.astype(a.dtype.newbyteorder('<')).tobytes()
    ds.save_as(os.path.join(folder, 'multiframe.dcm'))
    print(json.dumps({'normal': normal.tolist(), 'spacing': 2.5}))


def cmd_nifti_write(folder):
    """Volumes of shape 5 (i) × 4 (j) × 3 (k), marker value 100 at voxel (1, 2, 0), written by nibabel
    with known affines (voxel index → RAS+ millimetres) and dtypes. Prints what was written."""
    import os

    import nibabel as nib

    shape = (5, 4, 3)
    marker = (1, 2, 0)
    affines = {
        'ras': np.diag([2.0, 3.0, 4.0, 1.0]),  # i → left, j → anterior, k → superior
        'las': np.diag([-2.0, 3.0, 4.0, 1.0]),  # i → right (radiological storage)
        'lpi': np.diag([-2.0, -3.0, -4.0, 1.0]),  # i → right, j → posterior, k → inferior
        # sagittal-like storage: i → posterior 3 mm, j → superior 4 mm, k → left 2 mm
        'permuted': np.array([[0, 0, 2.0, 0], [-3.0, 0, 0, 0], [0, 4.0, 0, 0], [0, 0, 0, 1]]),
    }
    written = []

    def save(img, name):
        path = os.path.join(folder, name)
        nib.save(img, path)
        written.append(name)

    def volume(dtype):
        data = np.zeros(shape, dtype=dtype)
        data[marker] = 100
        return data

    for name, affine in affines.items():
        img = nib.Nifti1Image(volume('int16'), affine)
        img.set_qform(affine, code=1)
        img.set_sform(affine, code=1)
        save(img, f'{name}.nii')
    for dtype in ('uint8', 'uint16', 'int32', 'float32', 'float64'):
        save(nib.Nifti1Image(volume(dtype), affines['ras']), f'ras_{dtype}.nii')
    save(nib.Nifti1Image(volume('int16'), affines['las']), 'las.nii.gz')
    # qform only (sform code 0): the quaternion path, with qfac = -1 for the left-handed LAS affine
    img = nib.Nifti1Image(volume('int16'), affines['las'])
    img.set_qform(affines['las'], code=1)
    img.set_sform(affines['las'], code=0)
    save(img, 'las_qform_only.nii')
    # stored int16 with slope 0.5, intercept 10: the marker reads back as 60, the rest as 10
    img = nib.Nifti1Image(volume('int16'), affines['ras'])
    img.header.set_slope_inter(0.5, 10.0)
    save(img, 'ras_scaled.nii')
    # big endian header and data
    header = nib.Nifti1Header(endianness='>')
    header.set_data_dtype('>i2')
    save(nib.Nifti1Image(volume('>i2'), affines['ras'], header=header), 'ras_bigendian.nii')
    # NIfTI-2
    save(nib.Nifti2Image(volume('int16'), affines['las']), 'las_nifti2.nii')
    print(json.dumps({'shape': shape, 'marker': marker, 'written': written}))


if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    if cmd == 'png':
        cmd_png(args[0])
    elif cmd == 'dicom':
        cmd_dicom(args)
    elif cmd == 'dicom-series':
        cmd_dicom_series(args[0], args[1])
    elif cmd == 'nifti-write':
        cmd_nifti_write(args[0])
    else:
        sys.exit(f'unknown command {cmd}')
