import { describe, expect, it } from 'vitest';
import { fold, foldedIncludes, foldedRanges } from './fold';

describe('fold', () => {
  it('drops Vietnamese marks and case, and reads đ as d', () => {
    expect(fold('Khỏe')).toBe('khoe');
    expect(fold('Đường')).toBe('duong');
    expect(fold('ĐẶNG Thị Ngọc')).toBe('dang thi ngoc');
    expect(fold('Crème Brûlée')).toBe('creme brulee');
  });

  it('folds precomposed and decomposed text alike', () => {
    expect(fold('khỏe'.normalize('NFD'))).toBe(fold('khỏe'.normalize('NFC')));
  });

  it('leaves text without marks as it is, in lower case', () => {
    expect(fold('Hello, 123')).toBe('hello, 123');
  });
});

describe('foldedIncludes', () => {
  it('finds across marks and case, both ways', () => {
    expect(foldedIncludes('Bạn khỏe không?', 'khoe')).toBe(true);
    expect(foldedIncludes('Bạn khỏe không?', 'KHỎE')).toBe(true);
    expect(foldedIncludes('Đường Lê Lợi', 'DUONG')).toBe(true);
    expect(foldedIncludes('Đường Lê Lợi', 'le loi')).toBe(true);
  });

  it('does not match other words or a blank query', () => {
    expect(foldedIncludes('Bạn khỏe không?', 'khoa')).toBe(false);
    expect(foldedIncludes('Bạn khỏe không?', '  ')).toBe(false);
  });
});

describe('foldedRanges', () => {
  it('gives the original text of each match', () => {
    const text = 'Khỏe không? Tôi khoẻ lắm.';
    const parts = foldedRanges(text, 'khoe').map(([a, b]) => text.slice(a, b));
    expect(parts).toEqual(['Khỏe', 'khoẻ']);
  });

  it('keeps marks written apart (NFD) inside the match', () => {
    const text = 'Đường phố'.normalize('NFD');
    const [[a, b]] = foldedRanges(text, 'duong');
    expect(text.slice(a, b)).toBe('Đường'.normalize('NFD'));
  });

  it('counts characters outside the basic plane correctly', () => {
    const text = '😀 Đường';
    const [[a, b]] = foldedRanges(text, 'duong');
    expect(text.slice(a, b)).toBe('Đường');
  });

  it('finds nothing for a blank or absent query', () => {
    expect(foldedRanges('Đường', '')).toEqual([]);
    expect(foldedRanges('Đường', 'pho')).toEqual([]);
  });
});
