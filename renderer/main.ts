import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createTractusI18n } from './i18n';
import { createClient } from './lib/client';
import { setApi } from './stores/api';
import './style.css';

setApi(createClient());
createApp(App).use(createPinia()).use(createTractusI18n()).mount('#app');
