# Rank correlation of segment's per-slice uncertainty with the slice's error on a crossval run's held-out
# maps: python3 scripts/model/uncertainty_rank.py RUN_DIR [THRESHOLD (the shipped card's, default 0.6)]
import json, numpy as np, sys
from scipy.stats import spearmanr
run=sys.argv[1] if len(sys.argv)>1 else '/work/runs/K'
threshold=float(sys.argv[2]) if len(sys.argv)>2 else 0.6
rows=[]
for fold in ['case30','case47','case146']:
    d=f'{run}/fold-{fold}'
    meta=json.load(open(d+'/heldout.json'))['slices']
    buf=open(d+'/heldout.bin','rb').read(); at=0
    for m in meta:
        probs=[];truths=[]
        for o in m['organs']:
            n=o['width']*o['height']
            p=np.frombuffer(buf,dtype=np.float32,count=n,offset=at); at+=4*n
            t=None
            if o['truth']:
                t=np.frombuffer(buf,dtype=np.uint8,count=n,offset=at)!=0; at+=n
            probs.append(p); truths.append(t)
        n=probs[0].size; s=0.01*n
        num=sum(np.minimum(p,1-p).sum() for p in probs); den=sum(p.sum()+(p>0.5).sum() for p in probs)+s
        u=num/den
        dices=[]
        for p,t in zip(probs,truths):
            pr=p>threshold; tt=t if t is not None else np.zeros(n,bool)
            a=pr.sum()+tt.sum()
            dices.append(1.0 if a==0 else 2*(pr&tt).sum()/a)
        rows.append((fold,u,1-np.mean(dices)))
for f in ['case30','case47','case146','all']:
    r=[x for x in rows if f=='all' or x[0]==f]
    u=np.array([x[1] for x in r]); e=np.array([x[2] for x in r])
    rho,pv=spearmanr(u,e)
    top=np.argsort(-u)[:10]
    print(f, len(r), 'spearman %.2f (p %.1e)'%(rho,pv), 'mean err all %.2f top10 %.2f'%(e.mean(), e[top].mean()))
