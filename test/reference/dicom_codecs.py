"""Independent helpers for the compressed-DICOM tests (test/unit/imaging-dicom-codecs.test.ts).

  dicom_codecs.py pgm <src.dcm> <out.pgm>
      the stored pixel values of a 1-frame grayscale DICOM (pydicom) as a binary PGM for OpenJPH's
      ojph_compress (maxval 2^BitsStored - 1, so the codestream carries the source's bit depth)
  dicom_codecs.py wrap <src.dcm> <codestream> <transfer syntax uid> <out.dcm>
      the source's data set with its pixel data replaced by one encapsulated frame (pydicom), for codecs
      that no Debian tool wraps into DICOM itself (HTJ2K)
  dicom_codecs.py htj2k <src.dcm> <out.dcm> <work dir> lossless|lossy
      pgm, OpenJPH's ojph_compress, wrap (and, lossy, ojph_expand to <out>.ref.pgm) in one Python start
"""
import os
import subprocess
import sys


def cmd_pgm(src, out):
    import numpy as np
    import pydicom

    ds = pydicom.dcmread(src)
    a = ds.pixel_array
    if a.ndim != 2:
        raise SystemExit(f'{src}: expected one grayscale frame, got shape {a.shape}')
    if a.min() < 0:
        raise SystemExit(f'{src}: negative stored values cannot go into a PGM')
    maxval = (1 << int(ds.BitsStored)) - 1
    rows, cols = a.shape
    with open(out, 'wb') as f:
        f.write(f'P5\n{cols} {rows}\n{maxval}\n'.encode())
        f.write(a.astype('>u2' if maxval > 255 else 'u1').tobytes())


def cmd_wrap(src, codestream, uid, out):
    import pydicom
    from pydicom.encaps import encapsulate

    from pydicom._uid_dict import UID_dictionary

    # pydicom 2.3 (Debian 12) predates the HTJ2K syntaxes; it must know the UID is a compressed syntax.
    UID_dictionary.setdefault(uid, (f'Transfer syntax {uid}', 'Transfer Syntax', '', '', ''))
    ds = pydicom.dcmread(src)
    with open(codestream, 'rb') as f:
        frame = f.read()
    ds.file_meta.TransferSyntaxUID = uid
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.PixelData = encapsulate([frame])
    ds['PixelData'].VR = 'OB'
    ds['PixelData'].is_undefined_length = True
    ds.save_as(out, write_like_original=False)


def cmd_htj2k(src, out, work, mode):
    base = os.path.join(work, os.path.basename(out)[: -len('.dcm')])
    cmd_pgm(src, base + '.pgm')
    options = ['-qstep', '0.002'] if mode == 'lossy' else ['-reversible', 'true']
    quiet = {'stdout': subprocess.DEVNULL, 'check': True}
    subprocess.run(['ojph_compress', '-i', base + '.pgm', '-o', base + '.j2c', *options], **quiet)
    syntax = '1.2.840.10008.1.2.4.203' if mode == 'lossy' else '1.2.840.10008.1.2.4.201'
    cmd_wrap(src, base + '.j2c', syntax, out)
    if mode == 'lossy':
        ref = out[: -len('.dcm')] + '.ref.pgm'
        subprocess.run(['ojph_expand', '-i', base + '.j2c', '-o', ref], **quiet)


if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    {'pgm': cmd_pgm, 'wrap': cmd_wrap, 'htj2k': cmd_htj2k}[cmd](*args)
