import { createI18n } from 'vue-i18n';
import en from './en';
import fr from './fr';

export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * French counts 0 and 1 in the singular ("0 coupe", "1 coupe"); English's rule is vue-i18n's default.
 * Messages with three forms are "none | one | many" in both languages.
 */
export function frenchPlural(choice: number, choicesLength: number): number {
  const n = Math.abs(choice);
  if (choicesLength === 3) return n === 0 ? 0 : n === 1 ? 1 : 2;
  return n < 2 ? 0 : 1;
}

export function createTractusI18n(locale: Locale = 'en') {
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages: { en, fr },
    pluralRules: { fr: frenchPlural },
  });
}
