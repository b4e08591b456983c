#!/usr/bin/env python3
"""Independent reference readers for the imaging tests (main/imaging is checked against these, never itself).

Usage:
  imaging_reference.py png <file>            -> JSON stats of a PNG read by Pillow
  imaging_reference.py dicom <file>...       -> JSON stats per file of pydicom's pixel_array (rescaled)
  imaging_reference.py nifti-write <dir>     -> writes test volumes with nibabel and prints what was written
  imaging_reference.py nifti-anatomy <template.dcm> <dir> -> one patient in several voxel orders + as DICOM
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


def cmd_nifti_anatomy(template, folder):
    """One "patient" stored in several voxel orders, with anatomy of known side, written by nibabel; plus the
    same patient as an axial DICOM series (pydicom, standard LPS storage) for comparison.

    The patient is built in RAS+ millimetres (nibabel's world: +x patient RIGHT): a "liver" (value 200) around
    x = +90 mm, a "spleen" (100) around x = -97 mm, a "stomach" (150) anterior-left, and a marker (50) on the
    most superior slice only. For every file, nibabel's own as_closest_canonical gives the RAS voxel array;
    the radiological display (patient right on the image's left, anterior on top, slices inferior → superior)
    is then display[k][r][c] = canon[nx-1-c, ny-1-r, k]. Also printed: each file's axis codes and the world
    x of the liver and spleen centroids computed from the stored file's own affine.
    """
    import os

    import nibabel as nib
    import pydicom
    from nibabel.orientations import axcodes2ornt, ornt_transform
    from pydicom.uid import generate_uid

    os.makedirs(folder, exist_ok=True)
    nx, ny, nz, mm = 48, 36, 4, 5.0
    ras_affine = np.diag([mm, mm, mm, 1.0])
    ras_affine[:3, 3] = [-(nx - 1) * mm / 2, -(ny - 1) * mm / 2, -40.0]
    world = lambda i, j, k: ras_affine[:3, :3] @ [i, j, k] + ras_affine[:3, 3]  # noqa: E731
    data = np.zeros((nx, ny, nz), dtype=np.int16)
    for i in range(nx):
        for j in range(ny):
            x, y, _ = world(i, j, 0)
            if abs(x - 90) <= 15 and abs(y) <= 30:
                data[i, j, :] = 200
            elif abs(x + 97) <= 10 and abs(y + 10) <= 20:
                data[i, j, :] = 100
            elif abs(x + 40) <= 15 and abs(y - 50) <= 15:
                data[i, j, :] = 150
    data[nx // 2, ny // 2, nz - 1] = 50
    canonical = nib.Nifti1Image(data, ras_affine)
    result = {}
    for code in ('RAS', 'LPS', 'LAS', 'LPI', 'PIR', 'SRA'):
        ornt = ornt_transform(axcodes2ornt('RAS'), axcodes2ornt(tuple(code)))
        img = canonical.as_reoriented(ornt)
        img.set_qform(img.affine, code=1)
        img.set_sform(img.affine, code=1)
        name = f'anatomy_{code}.nii'
        nib.save(img, os.path.join(folder, name))
        loaded = nib.load(os.path.join(folder, name))
        stored = np.asarray(loaded.dataobj)
        canon = np.asarray(nib.as_closest_canonical(loaded).dataobj)
        display = np.transpose(canon[::-1, ::-1, :], (2, 1, 0))
        centroid = lambda v: nib.affines.apply_affine(loaded.affine, np.argwhere(stored == v).mean(axis=0))  # noqa: E731
        result[name] = {
            'axcodes': ''.join(nib.aff2axcodes(loaded.affine)),
            'liverWorldX': float(centroid(200)[0]),
            'spleenWorldX': float(centroid(100)[0]),
            'display': display.astype(int).tolist(),
        }
    # The same patient as DICOM: pixel (r, c) of slice k is the voxel at LPS x = c (toward patient left),
    # y = r (toward posterior), the standard axial storage with ImageOrientationPatient 1\0\0\0\1\0.
    lps = data[::-1, ::-1, :]
    series = generate_uid()
    dicom_folder = os.path.join(folder, 'anatomy_dicom')
    os.makedirs(dicom_folder, exist_ok=True)
    for k in range(nz):
        ds = pydicom.dcmread(template)
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesNumber = 1
        ds.InstanceNumber = k + 1
        ds.Rows, ds.Columns = ny, nx
        ds.PixelSpacing = [f'{mm}', f'{mm}']
        ds.ImageOrientationPatient = ['1', '0', '0', '0', '1', '0']
        # LPS position of pixel (0, 0): RAS (x, y) of voxel (nx-1, ny-1) negated
        x, y, z = world(nx - 1, ny - 1, k)
        ds.ImagePositionPatient = [f'{-x:.3f}', f'{-y:.3f}', f'{z:.3f}']
        for tag in ('RescaleSlope', 'RescaleIntercept'):
            if tag in ds:
                delattr(ds, tag)
        ds.PixelData = np.ascontiguousarray(lps[:, :, k].T).astype('<i2').tobytes()
        ds.save_as(os.path.join(dicom_folder, f'{k + 1}.dcm'))
    print(json.dumps(result))


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
    elif cmd == 'nifti-anatomy':
        cmd_nifti_anatomy(args[0], args[1])
    else:
        sys.exit(f'unknown command {cmd}')
